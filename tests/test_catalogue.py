"""The Swedish catalogue holds each message once: branches that add the same
message would otherwise leave two entries, and msgfmt refuses that file."""

import re
from collections import Counter
from pathlib import Path

CATALOGUE = (
    Path(__file__).resolve().parents[1]
    / "moraspar/translations/sv/LC_MESSAGES/messages.po"
)


def _keys(text: str) -> list[str]:
    keys = []
    for block in re.split(r"\n\n+", text):
        lines = [line for line in block.splitlines() if not line.startswith("#")]
        key, taking = [], False
        for line in lines:
            if line.startswith(("msgctxt ", "msgid ")):
                taking = True
            elif line.startswith(("msgid_plural", "msgstr")):
                taking = False
            if taking and (line.startswith(("msgctxt ", "msgid ", '"'))):
                key.append(line)
        if key and key != ['msgid ""']:
            keys.append("\n".join(key))
    return keys


def test_every_message_has_one_entry() -> None:
    counts = Counter(_keys(CATALOGUE.read_text(encoding="utf-8")))
    assert len(counts) > 1000  # the parse finds the catalogue's entries
    assert [key for key, n in counts.items() if n > 1] == []
