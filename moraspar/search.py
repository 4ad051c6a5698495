"""Free-text search in Swedish over postings, portable to SQLite and PostgreSQL.

A posting's words are analysed once, when it is saved, into `search_text`:

    " <title terms> | <other terms> # <occupation terms> "

Each word gives its Snowball Swedish stem ("svetsare" -> "svets"), the same
stem with å, ä and ö folded to a and o when it differs ("vård" -> "vard", so a
query typed without accents still finds it while "vård" typed with them does
not find "vardag"), and the parts of a compound whose last part the shipped
vocabulary knows ("hemtjänst" -> "hem", "tjänst"). After "#" come the names of the
SSYK occupation groups whose typical work the posting names (a posting with
"matlagning" is work for "Kockar och kallskänkor", so "kock" finds it).

A query is analysed the same way and matched in SQL with LIKE over those
terms: every query word must occur as the start of a term (or inside one, for
words of five letters or more), which also serves short typing ("svet"), or
through one of its compound parts, or, for a word the vocabulary does not
know, through the closest vocabulary word ("elektiker" -> "elektriker").
The markers "|" and "#" let one column rank a title match above a match in the
text, and both above a match through an occupation group.
"""

import difflib
import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from typing import Any

import snowballstemmer
from sqlalchemy import Integer, and_, case, literal, or_
from sqlalchemy.sql.elements import ColumnElement

from moraspar.reference import vocabulary
from moraspar.reference.gazetteer import LOCALITIES

_WORD = re.compile(r"[0-9a-zåäöéüæø]+", re.IGNORECASE)
_FOLD = str.maketrans("åäöéèüæø", "aaoeeuao")
MIN_TERM = 2
MAX_TERMS = 8
# A substring match inside a longer word only for words this long, so that
# "el" or "kock" do not turn up in the middle of unrelated words.
MIN_INNER = 5
# Compound parts shorter than this are too ambiguous ("el", "om").
MIN_PART = 3
# Shorter words are not corrected: too many real words lie one letter apart.
MIN_CORRECTED = 6
TITLE_MARK = "|"
OCCUPATION_MARK = "#"

# Words that carry no meaning in a search box; without them "kock i Mora"
# does not ask for placements containing "i".
STOPWORDS = frozenset(
    [
        "och",
        "i",
        "på",
        "med",
        "för",
        "till",
        "av",
        "som",
        "en",
        "ett",
        "att",
        "det",
        "den",
        "de",
        "om",
        "hos",
        "inom",
        "vid",
        "eller",
        "samt",
        "från",
        "under",
        "mot",
        "ur",
        "m",
        "fl",
        "mfl",
        "mm",
        "m.m",
        "övrig",
        "övriga",
        "annan",
        "andra",
        "är",
        "vi",
    ]
)


@cache
def _stemmer() -> Any:
    return snowballstemmer.stemmer("swedish")


@cache
def stem(word: str) -> str:
    """Snowball Swedish stem, also without the definite endings "-an" and "-et"
    that Snowball keeps ("förskolan", "bageriet"), except in words ending in
    "-het" or "-tet" ("kvalitet")."""
    stemmed = str(_stemmer().stemWord(word))
    if (
        stemmed == word
        and len(word) >= 6
        and word.endswith(("an", "et"))
        and not word.endswith(("het", "tet"))
    ):
        return word[:-2]
    return stemmed


def fold(text: str) -> str:
    """Swedish letters folded to their plain look-alikes: "vård" -> "vard"."""
    return text.translate(_FOLD)


def _words(text: str) -> list[str]:
    return _WORD.findall(unicodedata.normalize("NFKC", text).casefold())


@cache
def _known() -> frozenset[str]:
    """Words (and their stems) of the shipped vocabulary: what a compound may be
    split into."""
    texts = [
        *vocabulary.skills(),
        *vocabulary.occupations().values(),
        *(term for terms in vocabulary.occupation_terms().values() for term in terms),
    ]
    words = {w for text in texts for w in _words(text) if len(w) >= MIN_PART}
    words -= STOPWORDS
    return frozenset(words | {stem(w) for w in words})


@cache
def compound_parts(word: str) -> tuple[str, ...]:
    """The stems of the parts of a compound whose last part the vocabulary
    knows, longest last part first: "demensvård" -> ("dem", "vård");
    () when no split is found.

    Swedish joins parts directly or with a linking "s" ("arbetsmiljö"). The
    first part need not be known when the last is long enough to be telling."""
    known = _known()

    def is_known(part: str) -> bool:
        return part in known or stem(part) in known

    for cut in range(MIN_PART, len(word) - MIN_PART + 1):
        head, tail = word[:cut], word[cut:]
        if not is_known(tail):
            continue
        if head.endswith("s") and len(head) > MIN_PART and is_known(head[:-1]):
            head = head[:-1]
        if not is_known(head) and len(tail) < MIN_PART + 1:
            continue
        parts = (stem(head), stem(tail))
        return tuple(
            dict.fromkeys(p for p in parts if len(p) >= MIN_PART and p not in STOPWORDS)
        )
    return ()


def _terms(words: list[str]) -> list[str]:
    """Stems, their compound parts and the accent-folded forms of both."""
    out: list[str] = []
    for word in words:
        if word in STOPWORDS:
            continue
        for term in (stem(word), *compound_parts(word)):
            out.append(term)
            if fold(term) != term:
                out.append(fold(term))
    return out


@cache
def _occupation_triggers() -> tuple[tuple[tuple[str, ...], tuple[str, ...]], ...]:
    """(terms of the occupation's name, stems of one typical word of its work)."""
    names = vocabulary.occupations()
    other_names = vocabulary.occupation_other_names()
    rows = []
    for code, work_words in vocabulary.occupation_terms().items():
        # The name before its first comma: "Undersköterskor, hemtjänst, ..."
        # names the occupation, the rest narrows it down.
        name = " ".join([names[code].split(",")[0], *other_names.get(code, ())])
        name_terms = tuple(dict.fromkeys(_terms(_words(name))))
        for work in work_words:
            work_stems = tuple(stem(w) for w in _words(work) if w not in STOPWORDS)
            rows.append((name_terms, work_stems))
    return tuple(rows)


def occupation_terms_for(terms: set[str]) -> list[str]:
    """Terms of the occupations whose typical work occurs among terms."""
    out: list[str] = []
    for name_terms, work in _occupation_triggers():
        if all(w in terms for w in work):
            out.extend(name_terms)
    return out


def _flatten(part: object) -> str:
    if isinstance(part, list | tuple):
        return " ".join(str(p) for p in part)
    return str(part) if part else ""


def index_text(*parts: object) -> str:
    """The search_text of a posting made of parts (strings or lists of strings),
    the first of them its title."""
    if not parts:
        return ""
    title = _terms(_words(_flatten(parts[0])))
    rest = _terms([w for part in parts[1:] for w in _words(_flatten(part))])
    seen = set(title) | set(rest)
    occupations = [t for t in occupation_terms_for(seen) if t not in seen]
    if not seen:
        return ""
    sections = [
        " ".join(dict.fromkeys(title)),
        " ".join(t for t in dict.fromkeys(rest) if t not in title),
        " ".join(dict.fromkeys(occupations)),
    ]
    return f" {sections[0]} {TITLE_MARK} {sections[1]} {OCCUPATION_MARK} {sections[2]} "


@dataclass(frozen=True)
class QueryTerm:
    """One word of a query: its stem and its compound parts, the most telling
    part first ("svetsarbete": "svet" before "arbet")."""

    stem: str
    parts: tuple[str, ...] = ()
    # Stems of the vocabulary word a misspelt word most likely meant.
    corrections: tuple[str, ...] = ()


@cache
def _generality(part: str) -> int:
    """How many vocabulary words contain part: "arbet" is in hundreds, "svet"
    in a few dozen, so "svets" tells more about "svetsarbete" than "arbete"."""
    return sum(1 for word in _known() if part in word)


def parse_query(query: str) -> list[QueryTerm]:
    terms: dict[str, QueryTerm] = {}
    for word in _words(query):
        if word in STOPWORDS:
            continue
        stemmed = stem(word)
        if len(stemmed) < MIN_TERM or stemmed in terms:
            continue
        parts = sorted(
            (p for p in compound_parts(word) if p != stemmed), key=_generality
        )
        terms[stemmed] = QueryTerm(stemmed, tuple(parts), corrections(word))
    return list(terms.values())[:MAX_TERMS]


@cache
def _by_initial() -> dict[str, tuple[str, ...]]:
    buckets: dict[str, list[str]] = {}
    for word in _known():
        buckets.setdefault(fold(word[0]), []).append(word)
    return {initial: tuple(sorted(words)) for initial, words in buckets.items()}


@cache
def _places() -> frozenset[str]:
    return frozenset(fold(w) for name in LOCALITIES for w in _words(name))


@cache
def corrections(word: str) -> tuple[str, ...]:
    """The stem of the vocabulary word closest to a word the vocabulary does
    not know ("elektiker" -> "elektrik"); () for known words, places and short
    words, where a guess would more likely mislead."""
    known = _known()
    if (
        len(word) < MIN_CORRECTED
        or word in known
        or stem(word) in known
        or fold(word) in _places()
        or compound_parts(word)
    ):
        return ()
    candidates = [
        w for w in _by_initial().get(fold(word[0]), ()) if abs(len(w) - len(word)) <= 2
    ]
    folded = {fold(w): w for w in candidates}
    if fold(word) in folded:  # only the accents were left out
        return ()
    close = difflib.get_close_matches(fold(word), list(folded), n=1, cutoff=0.8)
    return (stem(folded[close[0]]),) if close else ()


def query_terms(query: str) -> list[str]:
    return [t.stem for t in parse_query(query)]


def _escape(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _like(column: Any, pattern: str) -> ColumnElement[bool]:
    return column.like(pattern, escape="\\")


def _found(column: Any, term: str) -> ColumnElement[bool]:
    escaped = _escape(term)
    if len(term) >= MIN_INNER:
        return _like(column, f"%{escaped}%")
    return _like(column, f"% {escaped}%")


def _matches(column: Any, term: QueryTerm) -> ColumnElement[bool]:
    others = (*term.parts, *term.corrections)
    return or_(_found(column, term.stem), *(_found(column, p) for p in others))


def match_all(column: Any, terms: list[str] | list[QueryTerm]) -> ColumnElement[bool]:
    """Every query word occurs in column: as a term's start, inside a term
    (long words), or through one of its compound parts."""
    return and_(*(_matches(column, _as_term(t)) for t in terms))


def _as_term(term: str | QueryTerm) -> QueryTerm:
    return term if isinstance(term, QueryTerm) else QueryTerm(term)


def relevance(column: Any, terms: list[str] | list[QueryTerm]) -> ColumnElement[int]:
    """A score per row, summed over the query words: 6 for a title term that
    starts with the word, 5 for a whole term of the text, 4 for a match
    through an occupation group (or the company name), 3 for the most telling
    compound part of the word or its spelling correction, 2 for the start of a
    longer term of the text, 1 for anything else (inside a term, or a
    compound's less telling parts)."""
    score: ColumnElement[int] = literal(0, type_=Integer)
    text_end = f"%{OCCUPATION_MARK}%"
    for raw in terms:
        term = _as_term(raw)
        s = _escape(term.stem)
        telling = [_escape(p) for p in (*term.parts[:1], *term.corrections)]
        score = score + case(
            (_like(column, f"% {s}%{TITLE_MARK}%"), 6),
            (_like(column, f"% {s} {text_end}"), 5),
            (_like(column, f"%{OCCUPATION_MARK}% {s}%"), 4),
            *((_like(column, f"% {p}{text_end}"), 3) for p in telling),
            *((_like(column, f"%{OCCUPATION_MARK}% {p}%"), 3) for p in telling),
            (_like(column, f"% {s}%"), 2),
            else_=1,
        )
    return score
