"""The templates keep to the CSP: no inline script, style or event handlers."""

import re
from pathlib import Path

from moraspar.paths import template_folder

INLINE = re.compile(
    r"<script(?![^>]*\ssrc=)[^>]*>|<style[\s>]|\sstyle\s*=|\son[a-z]+\s*=|javascript:",
    re.IGNORECASE,
)
COMMENT = re.compile(r"\{#.*?#\}", re.DOTALL)


def test_no_template_has_inline_script_or_style() -> None:
    offenders = []
    for path in sorted(Path(template_folder()).rglob("*.html")):
        # Blank out Jinja comments, keeping their newlines for the line numbers.
        text = COMMENT.sub(
            lambda m: "\n" * m.group().count("\n"), path.read_text(encoding="utf-8")
        )
        for number, line in enumerate(text.splitlines(), 1):
            if INLINE.search(line):
                offenders.append(f"{path.name}:{number}: {line.strip()[:80]}")
    assert not offenders, "inline script/style breaks the CSP:\n" + "\n".join(offenders)


def test_the_pattern_catches_what_the_csp_would_block() -> None:
    for bad in (
        "<script>alert(1)</script>",
        '<p style="color:red">',
        '<button onclick="x()">',
        "<style>p{}</style>",
    ):
        assert INLINE.search(bad), bad
    assert not INLINE.search('<script src="/static/js/a.js" defer></script>')
