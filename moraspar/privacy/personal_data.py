"""Find personal data about students in free text: pure functions, no Flask.

Moraspår holds group-level facts about students only. Two checks guard every
free text, skill tag and imported cell:

- personal_numbers(): Swedish personal identity numbers (personnummer) and
  coordination numbers (samordningsnummer). The text is normalised first
  (NFKC folds full-width digits; every dash, minus and odd space becomes a
  plain one; invisible format characters are dropped), so that "０５０１０１－…",
  "050101–…" (en dash), "05 01 01-…" and "050101/…" read alike. A candidate is
  YYMMDD or YYYYMMDD, a run of up to three separators (space, dash, slash,
  dot; "+" before the last four digits), and four digits, not inside a longer
  run of digits. Its date must exist (month 1–12; day 1–31, or 61–91 for a
  samordningsnummer), which also clears organisation numbers, whose month
  digits are 20 or more. Then:
    - a number that passes the Luhn check on its ten digits is one;
    - a number that fails it still is when written the way identity numbers
      are written (a dash, "+" or "/" before the last four, or twelve digits
      in a row): a mistyped or invented identity number is still one, and the
      twelve digits of the import incident ("200501012384") fail the check;
    - so does one next to a word that says whose it is ("elev", "personnummer",
      "född", ...: PERSONAL_CONTEXT, within 40 characters before it);
    - otherwise (a plain run of ten digits, digits in groups with spaces, or a
      date written with dashes or dots) it is a phone number, an order number
      or a date more often than not: the Luhn check clears it.
  Phone numbers written the Swedish way ("070-123 45 67", "0250-123 45") do not
  have the shape at all.
- student_health(): a warning, not a block. A sentence that seems to name a
  person (two capitalised words in a row, or "elev"/"eleven"/"student" and a
  capitalised word) together with a health word (HEALTH_WORDS: diagnoses,
  disabilities, "allergi", ...). Health data is special category data
  (GDPR art. 9) and the school's duty of confidentiality covers it; the
  heuristic errs on the side of asking, and the user decides.
"""

import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date

# Every character that people (or word processors) put where a dash belongs.
_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2043\u2212\ufe58\ufe63\uff0d\u00ad"

_DATE_SEP = r"[ \-./]{0,3}"  # between YY, MM and DD
_SERIAL_SEP = r"[ \-./+]{0,3}"  # before the last four digits
_BODY = (
    rf"(?P<yy>\d\d)(?P<s1>{_DATE_SEP})(?P<mm>\d\d)(?P<s2>{_DATE_SEP})(?P<dd>\d\d)"
    rf"(?P<s3>{_SERIAL_SEP})(?P<serial>\d{{4}})(?!\d)(?P<after>[\-./]\d)?"
)
# Words that make a number that fails the Luhn check a person's all the same.
PERSONAL_CONTEXT = re.compile(
    r"\b(?:elev|eleven|student|pupil|personnummer|personnr|pnr|samordningsnummer"
    r"|samordningsnr|född|born|identity number)\b",
    re.IGNORECASE,
)
_CONTEXT_BEFORE = 40  # characters

# Two patterns, so that a century that does not check out never hides the
# ten-digit number that starts two digits later; lookaheads find overlapping
# candidates.
_WITH_CENTURY = re.compile(r"(?<!\d)(?=(?P<cc>18|19|20)" + _BODY + ")")
_WITHOUT_CENTURY = re.compile(r"(?<!\d)(?=" + _BODY + ")")


@dataclass(frozen=True)
class PersonalNumber:
    """A personal identity or coordination number found in a text."""

    digits: str  # the ten digits YYMMDDNNNN
    coordination: bool  # a samordningsnummer (day + 60)
    luhn_ok: bool
    start: int  # position in the normalised text


# The invisible format characters (Unicode category Cf) that show up in text.
_FORMAT = "\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff"
# What normalise changes after NFKC, in one pass (a few odd characters in a
# text, so the replacement function is seldom called).
_ODD = re.compile(f"[{_DASHES}]|[^\\S ]|[{_FORMAT}]|[^\\D0-9]")
_DIGIT = re.compile(r"\d")


def _fold(match: re.Match[str]) -> str:
    char = match.group()
    if char in _DASHES:
        return "-"
    if char.isspace():
        return " "
    if char.isdecimal():
        return str(unicodedata.decimal(char))
    return ""  # a format character


def normalise(text: str) -> str:
    """NFKC, every dash as "-", every space as " ", decimal digits as 0-9, and
    no invisible format characters."""
    return _ODD.sub(_fold, unicodedata.normalize("NFKC", text))


def luhn_ok(digits: str) -> bool:
    """The Luhn check over a string of digits, the last one being the check."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char) * (2 if index % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def _valid_date(century: str | None, yy: str, mm: str, dd: str) -> tuple[bool, bool]:
    """(the date exists, it is a coordination number's day)."""
    day = int(dd)
    coordination = day > 60
    if coordination:
        day -= 60
    # Without a century, 2000+yy is a leap year whenever 1900+yy is.
    year = int((century or "20") + yy)
    try:
        date(year, int(mm), day)
    except ValueError:
        return False, coordination
    return True, coordination


def _candidates(text: str) -> Iterator[PersonalNumber]:
    for pattern in (_WITH_CENTURY, _WITHOUT_CENTURY):
        for match in pattern.finditer(text):
            groups = match.groupdict()
            century = groups.get("cc")
            exists, coordination = _valid_date(
                century, groups["yy"], groups["mm"], groups["dd"]
            )
            if not exists:
                continue
            date_written_as_date = any(c in groups["s1"] + groups["s2"] for c in "-./")
            if date_written_as_date and groups["after"]:
                continue  # "2027-03-01 – 2027-03-15": a period, not a number
            digits = groups["yy"] + groups["mm"] + groups["dd"] + groups["serial"]
            luhn = luhn_ok(digits)
            separators = groups["s1"] + groups["s2"] + groups["s3"]
            written_as_number = not date_written_as_date and (
                any(c in groups["s3"] for c in "-+/")
                or (century is not None and not separators)
            )
            if luhn or written_as_number or _said_whose(text, match.start()):
                yield PersonalNumber(digits, coordination, luhn, match.start())


def _said_whose(text: str, start: int) -> bool:
    before = text[max(0, start - _CONTEXT_BEFORE) : start]
    return PERSONAL_CONTEXT.search(before) is not None


def personal_numbers(text: str) -> list[PersonalNumber]:
    """The personal identity and coordination numbers in text, in order."""
    digits = _DIGIT.findall(text) if text else []
    if len(digits) < 10:  # most texts: no need to look further
        return []
    found: dict[int, PersonalNumber] = {}
    for number in _candidates(normalise(text)):
        found.setdefault(number.start, number)
    return [found[start] for start in sorted(found)]


def contains_personal_number(text: str) -> bool:
    return bool(personal_numbers(text))


def any_personal_number(texts: Iterable[str]) -> bool:
    """Whether any of texts (a form field's value, a list of tags) has one."""
    return any(contains_personal_number(text) for text in texts if text)


# -- names together with health words ---------------------------------------

# Stems, matched anywhere in a word: inflections ("astmatiker",
# "diagnostiserad") and compounds ("nötallergi", "prestationsångest").
HEALTH_WORDS: tuple[str, ...] = (
    "adhd",
    "allergi",
    "allergisk",
    "allergy",
    "allergic",
    "anorexi",
    "asperger",
    "astma",
    "asthma",
    "autism",
    "autist",
    "bulimi",
    "celiaki",
    "coeliac",
    "celiac",
    "depression",
    "depressiv",
    "diabetes",
    "diabetiker",
    "diagnos",
    "diagnosed",
    "dyskalkyli",
    "dyslexi",
    "dyslektiker",
    "epilepsi",
    "epileptiker",
    "epilepsy",
    "funktionsnedsättning",
    "funktionshinder",
    "disability",
    "hörselnedsättning",
    "synnedsättning",
    "tourette",
    "ångest",
    "anxiety",
    "ätstörning",
    "psykisk ohälsa",
    "sjukdom",
    "medicinerar",
)
# Acronyms that are ordinary words in lower case ("add"): upper case only.
_ACRONYMS = ("ADD", "OCD", "NPF", "ADHD")

# Stems anywhere in a lower-cased word, and acronyms as whole words; the word
# found is then widened to the whole word ("nötallergi"). (Lower-casing first
# is ten times faster than an IGNORECASE alternation.)
_STEMS = re.compile(
    "|".join(re.escape(w) for w in sorted(HEALTH_WORDS, key=len, reverse=True))
)
_ACRONYM = re.compile(r"\b(?:" + "|".join(_ACRONYMS) + r")\b")
_WORD_BEFORE = re.compile(r"\w*$")
_WORD_AFTER = re.compile(r"\w*")


def _health_word(sentence: str) -> str | None:
    lowered = sentence.lower()
    match = _STEMS.search(lowered)
    if match is not None:
        sentence = lowered
    else:
        match = _ACRONYM.search(sentence)
    if match is None:
        return None
    head = _WORD_BEFORE.search(sentence, 0, match.start())
    tail = _WORD_AFTER.match(sentence, match.end())
    return (
        (head.group() if head else "") + match.group() + (tail.group() if tail else "")
    )


_UPPER = "A-ZÅÄÖÉÜ"
_LOWER = "a-zåäöéüèáíóú"
_NAME = rf"[{_UPPER}][{_LOWER}]+(?:-[{_UPPER}][{_LOWER}]+)?"
# Lookaheads, so that "Eleven Kalle Svensson" yields "Kalle Svensson" too.
_NAME_PAIR = re.compile(rf"(?=\b(?P<first>{_NAME})\s+(?P<second>{_NAME})\b)")
_STUDENT_AND_NAME = re.compile(
    rf"\b(?i:elev|eleven|student|the student|pupil)\s+(?P<name>{_NAME})\b"
)
_SENTENCE_END = re.compile(r"(?<=[.!?;:])\s+|\n+")

# Capitalised words that start sentences or name places, schools and firms
# rather than people: a pair containing one is not taken for a name.
_NOT_NAME_WORDS = """
    a an and but for from in of on our the this these those we when with they
    after all alla att av de dem den denna deras det dessa efter eftersom en
    ett flera från för gruppen har hos i inför klass klassen kommer med men
    ni några om och på samt som till under vi vid vår våra vårt är
    elev eleven eleverna elever student students pupil pupils
    mora orsa älvdalen dalarna sverige sweden falun stockholm
    gymnasium gymnasiet skola skolan kommun region ab hb kb
    kompetensrådet moraspår vård omsorg bygg el energi teknik
    januari februari mars april maj juni juli augusti september oktober
    november december måndag tisdag onsdag torsdag fredag
"""
_NOT_NAMES = frozenset(_NOT_NAME_WORDS.split())


@dataclass(frozen=True)
class HealthMention:
    """A sentence that seems to name a student together with a health word."""

    name: str
    health_word: str


def _names(sentence: str) -> Iterator[str]:
    for match in _STUDENT_AND_NAME.finditer(sentence):
        if match["name"].casefold() not in _NOT_NAMES:
            yield match["name"]
    for match in _NAME_PAIR.finditer(sentence):
        first, second = match["first"], match["second"]
        if first.casefold() in _NOT_NAMES or second.casefold() in _NOT_NAMES:
            continue
        yield f"{first} {second}"


def student_health(text: str) -> HealthMention | None:
    """The first sentence that names someone next to a health word, if any."""
    if not text or not (_STEMS.search(text.lower()) or _ACRONYM.search(text)):
        return None
    for sentence in _SENTENCE_END.split(normalise(text)):
        health = _health_word(sentence)
        if health is None:
            continue
        name = next(_names(sentence), None)
        if name is not None:
            return HealthMention(name=name, health_word=health)
    return None
