"""Free-text search in Swedish over postings, portable to SQLite and PostgreSQL.

Each posting keeps `search_text`: its words stemmed with the Swedish Snowball
stemmer, space-separated. A query is stemmed the same way and each term is
matched as a substring, so "svetsare" (stem "svets") finds "svetsning" and the
compound "svetsarbete". Results rank by how many terms match, whole-word
starts counting double.
"""

import re
from functools import cache
from typing import Any

import snowballstemmer
from sqlalchemy import Integer, and_, case, literal
from sqlalchemy.sql.elements import ColumnElement

_WORD = re.compile(r"[0-9a-zåäöéüæø]+", re.IGNORECASE)
MIN_TERM = 2
MAX_TERMS = 8


@cache
def _stemmer() -> Any:
    return snowballstemmer.stemmer("swedish")


def stems(text: str) -> list[str]:
    words = _WORD.findall(text.casefold())
    return list(_stemmer().stemWords(words)) if words else []


def index_text(*parts: object) -> str:
    """The search_text for a posting made of parts (strings or lists of strings)."""
    words: list[str] = []
    for part in parts:
        if isinstance(part, list | tuple):
            words.extend(stems(" ".join(str(p) for p in part)))
        elif part:
            words.extend(stems(str(part)))
    unique = list(dict.fromkeys(words))
    return " " + " ".join(unique) + " " if unique else ""


def query_terms(query: str) -> list[str]:
    terms = [t for t in dict.fromkeys(stems(query)) if len(t) >= MIN_TERM]
    return terms[:MAX_TERMS]


def _escape(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def match_all(column: Any, terms: list[str]) -> ColumnElement[bool]:
    """Every term occurs in column (as a substring of some stem)."""
    return and_(*(column.like(f"%{_escape(term)}%", escape="\\") for term in terms))


def relevance(column: Any, terms: list[str]) -> ColumnElement[int]:
    """A score per row: 2 for a term at a word start, 1 inside a word."""
    score: ColumnElement[int] = literal(0, type_=Integer)
    for term in terms:
        escaped = _escape(term)
        score = score + case(
            (column.like(f"% {escaped}%", escape="\\"), 2),
            (column.like(f"%{escaped}%", escape="\\"), 1),
            else_=0,
        )
    return score
