"""parse_file: encodings, delimiters, headers and row checks, without a database."""

from datetime import date

from moraspar.imports.services import MAX_ROWS, Problem, parse_file
from moraspar.reference import orgnumber

SAW = orgnumber.complete("556677889")
OTHER = orgnumber.complete("556011223")


def _problems(raw: bytes) -> list[tuple[int | None, str, Problem]]:
    return [(e.row, e.column, e.problem) for e in parse_file(raw).errors]


def test_delimiter_and_encoding_are_detected() -> None:
    text = f"ort;företag;organisationsnummer\nMora;Snickeri, Mora AB;{SAW}\n"
    for encoding, expected in (("utf-8-sig", "utf-8"), ("cp1252", "cp1252")):
        parsed = parse_file(text.encode(encoding))
        assert parsed.ok, parsed.errors
        assert (parsed.encoding, parsed.delimiter) == (expected, ";")
        assert parsed.companies[0].name == "Snickeri, Mora AB"
    tabbed = parse_file(f"orgnr\tnamn\tort\n{SAW}\tSåg\tOrsa\n".encode())
    assert tabbed.delimiter == "\t" and tabbed.companies[0].locality == "Orsa"


def test_header_names_are_forgiving_and_unknown_columns_ignored() -> None:
    parsed = parse_file(
        f" Org-Number ;COMPANY;Locality;E-Post;Anteckning\n"
        f"{SAW.replace('-', '')};Såg;MORA;Info@Sag.Example;hej\n".encode()
    )
    assert parsed.ok, parsed.errors
    company = parsed.companies[0]
    assert company.org_number == SAW  # normalised with the hyphen
    assert company.locality == "Mora"
    assert company.contact_email == "info@sag.example"
    assert parsed.ignored_columns == ["Anteckning"]


def test_duplicate_column_rejects_file() -> None:
    raw = f"orgnr;företag;ort;locality\n{SAW};Såg;Mora;Orsa\n".encode()
    assert _problems(raw) == [(1, "locality", Problem.DUPLICATE_COLUMN)]


def test_company_on_several_rows_merges_and_conflicts_are_errors() -> None:
    merged = parse_file(
        "orgnr;företag;ort;telefon;typ;rubrik\n"
        f"{SAW};Såg;Mora;;apl;A\n"
        f"{SAW};Såg;Mora;0250-123;prao;B\n".encode()
    )
    assert merged.ok
    assert len(merged.companies) == 1 and len(merged.placements) == 2
    assert merged.companies[0].contact_phone == "0250-123"
    conflict = parse_file(
        f"orgnr;företag;ort\n{SAW};Såg;Mora\n{SAW};Sågen AB;Mora\n".encode()
    )
    assert [(e.row, e.column, e.problem, dict(e.params)) for e in conflict.errors] == [
        (3, "företag", Problem.CONFLICT, {"other_row": 2})
    ]


def test_placement_row_needs_kind_and_title_and_defaults_places() -> None:
    parsed = parse_file(
        "orgnr;företag;ort;typ;rubrik;platser;slut\n"
        f"{SAW};Såg;Mora;gästföreläsning;Om skog;;2027-01-01\n"
        f"{OTHER};Bageri;Mora;;;;2027-01-01\n".encode()
    )
    assert [(e.row, e.column, e.problem) for e in parsed.errors] == [
        (3, "typ", Problem.REQUIRED),
        (3, "rubrik", Problem.REQUIRED),
    ]
    raw = f"orgnr;företag;ort;typ;rubrik;slut\n{SAW};Såg;Mora;Projekt;X;2027-01-01\n"
    placement = parse_file(raw.encode()).placements[0]
    assert (placement.kind, placement.places) == ("project", 1)
    assert placement.end_date == date(2027, 1, 1) and placement.start_date is None


def test_sni_codes() -> None:
    ok = parse_file(f"orgnr;företag;ort;sni\n{SAW};Såg;Mora;16.101\n".encode())
    assert ok.companies[0].sni_code == "16"
    assert _problems(f"orgnr;företag;ort;sni\n{SAW};Såg;Mora;04\n".encode()) == [
        (2, "sni", Problem.UNKNOWN_SNI)
    ]


def test_blank_rows_are_skipped_and_numbered_like_a_spreadsheet() -> None:
    raw = f"orgnr;företag;ort\n\n;;\n{SAW};Såg;Atlantis\n".encode()
    assert _problems(raw) == [(4, "ort", Problem.UNKNOWN_LOCALITY)]


def test_file_level_problems() -> None:
    assert _problems(b"") == [(None, "", Problem.EMPTY)]
    assert _problems("orgnr;företag;ort\n".encode()) == [(None, "", Problem.EMPTY)]
    assert _problems(b"\x00\x01\x02PK") == [(None, "", Problem.NOT_TEXT)]
    row = f"{SAW};Såg;Mora\n"
    too_many = ("orgnr;företag;ort\n" + row * (MAX_ROWS + 1)).encode()
    errors = parse_file(too_many).errors
    assert [e.problem for e in errors] == [Problem.TOO_MANY_ROWS]
    assert errors[0].params["rows"] == MAX_ROWS + 1
    exactly = parse_file(("orgnr;företag;ort\n" + row * MAX_ROWS).encode())
    assert exactly.ok and exactly.rows == MAX_ROWS
