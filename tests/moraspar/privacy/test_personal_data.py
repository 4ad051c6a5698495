"""Personal data in free text: the detector, every form field, the CSV import."""

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from moraspar.privacy.personal_data import (
    contains_personal_number,
    normalise,
    personal_numbers,
    student_health,
)

# -- the detector ------------------------------------------------------------

# Luhn-valid: 050101-2389 (1 January 2005), 050161-2386 (its samordningsnummer),
# 811218-9876, 070315-1233, 000229-1235 (a leap day).
FOUND = [
    # The variants that got through the old check, digit for digit. They fail
    # the Luhn check but are written the way identity numbers are written.
    "Eleven 050101–2384 behöver anpassning",  # en dash
    "05 01 01-2384",
    "０５０１０１－２３８４",  # full-width digits and hyphen
    "050161-2384",  # samordningsnummer
    "050101/2384",
    "Elev Kalle Svensson 200501012384 har diabetes",  # the import incident
    # Luhn-valid numbers in every shape.
    "050101-2389",
    "0501012389",
    "200501012389",
    "20050101-2389",
    "050101 2389",
    "05 01 01 2389",
    "050101 - 2389",
    "050101—2389",  # em dash
    "050101\u22122389",  # minus sign
    "050101\u00a02389",  # no-break space
    "050101\u200b-2389",  # zero-width space
    "050161-2386",
    "811218+9876",  # a hundred years old or more
    "19811218-9876",
    "pnr:8112189876.",
    "070315-1233",
    "000229-1235",
    "٠٥٠١٠١-٢٣٨٩",  # Arabic-Indic digits
    "född 050101.2389",
]

NOT_FOUND = [
    "070-123 45 67",  # mobile numbers written the Swedish way
    "070-1234567",
    "0250-123 45",
    "+46 70 123 45 67",
    "08-123 456 78",
    "556036-0793",  # organisation numbers: month digits 20 or more
    "5560360793",
    "212000-2411",
    "16556036-0793",
    "0701234567",  # a phone number in one run: fails the Luhn check
    "050101 2384",  # spaces only and the Luhn check fails
    "Perioden 2027-03-01 – 2027-03-15",
    "2027-03-01 - 2027-03-01",
    "051301-2384",  # month 13
    "050132-2384",  # day 32
    "050230-2384",  # 30 February
    "050192-2384",  # day 92
    "050101-238",  # three digits
    "1050101-2389",  # inside a longer number
    "050101-23891",
    "Postnummer 792 30 Mora, SSYK 7223",
    "Kl. 08.00–16.00, vecka 12–14",
    "",
]


@pytest.mark.parametrize("text", FOUND)
def test_personal_numbers_are_found(text: str) -> None:
    assert contains_personal_number(text)


@pytest.mark.parametrize("text", NOT_FOUND)
def test_phone_org_numbers_and_dates_are_not_personal_numbers(text: str) -> None:
    assert personal_numbers(text) == []


def test_found_number_says_what_it_is() -> None:
    [number] = personal_numbers("Eleven ０５０１６１－２３８６ kommer")
    assert number.digits == "0501612386"
    assert number.coordination and number.luhn_ok


def test_normalise_folds_width_dashes_and_spaces() -> None:
    assert normalise("０５\u2013\u00a0x\u200by") == "05- xy"


def _check_digit(nine: str) -> str:
    total = 0
    for index, char in enumerate(nine):
        value = int(char) * (2 if index % 2 == 0 else 1)
        total += value // 10 + value % 10
    return str((10 - total % 10) % 10)


DATE_SEPARATORS = ["", " ", "-", "–", ".", "/", " - "]
SERIAL_SEPARATORS = ["", "-", "–", "—", "－", "+", " ", "/", " - ", "\u00a0"]
# Padding around the number: any text, but not digits or separators right
# next to it (those would make it part of a longer number).
PADDING = st.text(max_size=40)


@given(
    born=st.dates(min_value=date(1900, 1, 1), max_value=date(2025, 12, 31)),
    serial=st.integers(min_value=0, max_value=999),
    coordination=st.booleans(),
    century=st.booleans(),
    date_sep=st.sampled_from(DATE_SEPARATORS),
    serial_sep=st.sampled_from(SERIAL_SEPARATORS),
    full_width=st.booleans(),
    before=PADDING,
    after=PADDING,
)
def test_a_valid_number_in_any_text_and_shape_is_found(
    born: date,
    serial: int,
    coordination: bool,
    century: bool,
    date_sep: str,
    serial_sep: str,
    full_width: bool,
    before: str,
    after: str,
) -> None:
    day = born.day + (60 if coordination else 0)
    nine = f"{born:%y%m}{day:02d}{serial:03d}"
    digits = nine + _check_digit(nine)
    year = f"{born:%Y}" if century else digits[:2]
    written = (
        f"{year}{date_sep}{digits[2:4]}{date_sep}{digits[4:6]}{serial_sep}{digits[6:]}"
    )
    if full_width:
        written = "".join(
            chr(ord(c) - ord("0") + 0xFF10) if c.isdigit() else c for c in written
        )
    text = f"{before} {written} {after}"
    assert digits in {number.digits for number in personal_numbers(text)}


HEALTH_FOUND = [
    ("Elev Kalle Svensson 200501012384 har diabetes", "diabetes"),
    ("Eleven Kalle har astma.", "astma"),
    ("Kim Larsson har ADD och behöver en lugn miljö.", "ADD"),
    ("Sara Nilsson är allergisk mot nötter", "allergisk"),
    ("Student Anna has epilepsy", "epilepsy"),
    ("Ahmed Hassan har dyslexi och läser långsamt", "dyslexi"),
    ("Vi tar emot eleven Lisa, som har en diagnos inom NPF", "diagnos"),
    ("Ella Björk har glutenallergi.", "glutenallergi"),
]

HEALTH_NOT_FOUND = [
    "Gruppen har elever med astma.",  # the group, no name
    "Två elever har nötallergi; arbetsplatsen bör vara nötfri.",
    "Mora Gymnasium har elever med allergi",
    "Kalle Svensson är handledare. Vi har elever med astma.",  # two sentences
    "We add Anna Berg as supervisor",
    "Färnäs Bygg tar emot elever med dyslexi",
    "Kalle Svensson svetsar och bockar plåt",  # a name, no health word
    "",
]


@pytest.mark.parametrize(("text", "word"), HEALTH_FOUND)
def test_student_named_with_a_health_word_is_found(text: str, word: str) -> None:
    mention = student_health(text)
    assert mention is not None and mention.health_word == word


@pytest.mark.parametrize("text", HEALTH_NOT_FOUND)
def test_group_level_health_facts_are_not_flagged(text: str) -> None:
    assert student_health(text) is None
