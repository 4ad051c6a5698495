"""The occupation table the placement search reads names real SSYK groups."""

from moraspar.reference import vocabulary


def test_every_group_is_an_ssyk_code_with_words() -> None:
    work = vocabulary.occupation_terms()
    assert len(work) >= 40
    assert set(work) <= set(vocabulary.occupations())
    assert all(words for words in work.values())


def test_other_names_are_read_from_brackets() -> None:
    assert "bilmekaniker" in vocabulary.occupation_other_names()["7231"]
    assert "fordonsteknik" in vocabulary.occupation_terms()["7231"]
