"""Reference data and its rules: vocabularies, localities, labels and
organisation numbers."""
