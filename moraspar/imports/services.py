"""CSV import of companies and their placements (the business office's upload).

The file
- Encoding: UTF-8, with or without a byte-order mark, or Windows-1252 (what
  Swedish Excel writes for "CSV (semikolonavgränsad)"). UTF-8 is tried first:
  Windows-1252 text with åäö is almost never valid UTF-8, so the guess is safe.
- Delimiter: ";", "," or tab, chosen from the header row: the one under which
  most header cells are known column names.
- Row 1 is the header. Column names in Swedish or English (see COLUMNS); case,
  spaces, "-" and "_" do not matter ("E-post", "epost", "contact_email").
  Unknown columns are ignored and listed in the result. Row numbers in the
  error report count the header as row 1, as a spreadsheet shows them.
- Required columns: organisationsnummer, företag, ort. A row that also has a
  value in a placement column (typ, rubrik, ...) creates a placement too; it
  then needs typ and rubrik. The same company may appear on several rows, one
  per placement; its values must agree where both rows have one.
- Dates as YYYY-MM-DD (what Swedish Excel writes) or YYYY/MM/DD; nothing else,
  because 03/04/2027 means different days in different countries.
- kompetenser: tags separated by commas inside the cell. platser: a whole
  number from 1 (empty means 1). sni: an SNI 2007 code; a five-digit code is
  stored as its two-digit division, like the profile form's pick list.

Idempotent: a company is found by its normalised organisation number and
updated (a blank cell leaves the stored value alone); a placement with the same
company, title, start and end as an existing one is not created again.

Personal data: every cell of free text (all but the organisation number,
e-post, telefon and the cells with a format of their own) goes through the
forms' check: a personal identity number refuses the row, named by its row and
column, without repeating the number; a student named together with a health
word is a warning, listed after the import.

All or nothing: parse_file checks everything that needs no database and
apply_import checks the rest before it writes anything; any error rejects the
whole file (ImportRejected), so a half-imported file never needs cleaning up.
"""

import csv
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlmodel import Session, col, select

from moraspar import audit, organisations
from moraspar.companies.services import placement_search_text
from moraspar.council.scope import add_all_to_areas
from moraspar.models import Organisation, OrgKind, Placement, PostingKind, User, utcnow
from moraspar.privacy import personal_data
from moraspar.reference import orgnumber
from moraspar.reference.gazetteer import LOCALITIES
from moraspar.reference.vocabulary import industries, parse_tags

MAX_ROWS = 5_000
MAX_PLACES = 999
_CHUNK = 500  # values per SQL IN (...), well below every database's limit
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d")
_DELIMITERS = (";", ",", "\t")
# Cells with a format of their own, as in the forms; every other cell is free
# text and is checked for personal data.
_NOT_FREE_TEXT = frozenset({"contact_email", "contact_phone"})


class Problem(StrEnum):
    """What is wrong; the view turns each into a message in the user's language."""

    NOT_TEXT = "not_text"
    BAD_CSV = "bad_csv"
    EMPTY = "empty"
    TOO_MANY_ROWS = "too_many_rows"
    MISSING_COLUMN = "missing_column"
    DUPLICATE_COLUMN = "duplicate_column"
    REQUIRED = "required"
    ORG_NUMBER_FORMAT = "org_number_format"
    ORG_NUMBER_CHECK_DIGIT = "org_number_check_digit"
    UNKNOWN_LOCALITY = "unknown_locality"
    UNKNOWN_KIND = "unknown_kind"
    UNKNOWN_SNI = "unknown_sni"
    BAD_EMAIL = "bad_email"
    BAD_NUMBER = "bad_number"
    TOO_FEW_PLACES = "too_few_places"
    TOO_MANY_PLACES = "too_many_places"
    BAD_DATE = "bad_date"
    END_BEFORE_START = "end_before_start"
    TOO_LONG = "too_long"
    CONFLICT = "conflict"
    NOT_A_COMPANY = "not_a_company"
    PERSONAL_NUMBER = "personal_number"
    STUDENT_HEALTH = "student_health"  # a warning: the row is imported


@dataclass(frozen=True)
class RowError:
    problem: Problem
    row: int | None = None  # None: the file as a whole
    column: str = ""  # as written in the file's header
    params: Mapping[str, Any] = field(default_factory=dict, hash=False)


class ImportRejected(Exception):
    """The file has errors; nothing was written."""

    def __init__(self, errors: Sequence[RowError]) -> None:
        super().__init__(f"{len(errors)} errors")
        self.errors = list(errors)


@dataclass(frozen=True)
class Column:
    key: str
    name: str  # the Swedish header, used in the template file
    aliases: tuple[str, ...]
    max_length: int | None = None  # None: the column has its own format check
    required: bool = False
    placement: bool = False


COLUMNS: tuple[Column, ...] = (
    Column(
        "org_number",
        "organisationsnummer",
        ("org_number", "orgnr", "organisationsnr", "organisation number"),
        required=True,
    ),
    Column(
        "name",
        "företag",
        ("company", "företagsnamn", "namn", "name"),
        max_length=200,
        required=True,
    ),
    Column("locality", "ort", ("locality", "postort", "city"), required=True),
    Column("address", "adress", ("address", "gatuadress"), max_length=200),
    Column("sni_code", "sni", ("sni_code", "sni-kod")),
    Column(
        "contact_name",
        "kontaktperson",
        ("contact_name", "contact person"),
        max_length=200,
    ),
    Column(
        "contact_email",
        "e-post",
        ("contact_email", "email", "e-mail"),
        max_length=254,
    ),
    Column(
        "contact_phone",
        "telefon",
        ("contact_phone", "phone", "tel"),
        max_length=40,
    ),
    Column("kind", "typ", ("kind", "type"), placement=True),
    Column("title", "rubrik", ("title", "titel"), max_length=200, placement=True),
    Column(
        "description",
        "beskrivning",
        ("description",),
        max_length=4000,
        placement=True,
    ),
    Column("skills", "kompetenser", ("skills",), max_length=4000, placement=True),
    Column("places", "platser", ("places", "antal platser"), placement=True),
    Column(
        "start_date",
        "start",
        ("startdatum", "start_date", "start date"),
        placement=True,
    ),
    Column(
        "end_date",
        "slut",
        ("end", "slutdatum", "end_date", "end date"),
        placement=True,
    ),
    Column(
        "supervisor_name",
        "handledare",
        ("supervisor_name", "supervisor"),
        max_length=200,
        placement=True,
    ),
    Column(
        "supervisor_contact",
        "handledarkontakt",
        ("supervisor_contact", "handledare kontakt"),
        max_length=254,
        placement=True,
    ),
)

COMPANY_KEYS = tuple(c.key for c in COLUMNS if not c.placement)
PLACEMENT_KEYS = tuple(c.key for c in COLUMNS if c.placement)
TEMPLATE_HEADERS = tuple(c.name for c in COLUMNS)


def _fold(text: str) -> str:
    """'E-post ' -> 'epost', 'org_number' -> 'orgnumber': for forgiving lookups."""
    return re.sub(r"[\W_]+", "", text.casefold())


_HEADER_KEYS: dict[str, str] = {
    _fold(alias): column.key
    for column in COLUMNS
    for alias in (column.key, column.name, *column.aliases)
}
_BY_KEY = {column.key: column for column in COLUMNS}

_KINDS: dict[str, str] = {
    _fold(word): kind
    for kind, words in {
        PostingKind.APL: ("apl", "arbetsplatsförlagt lärande", "workplace learning"),
        PostingKind.PRAO: ("prao", "praktisk arbetslivsorientering"),
        PostingKind.STUDY_VISIT: ("study_visit", "studiebesök", "study visit"),
        PostingKind.GUEST_LECTURE: (
            "guest_lecture",
            "gästföreläsning",
            "guest lecture",
            "föreläsning",
        ),
        PostingKind.PROJECT: (
            "project",
            "projekt",
            "elevuppdrag",
            "student assignment",
            "projekt / elevuppdrag",
        ),
    }.items()
    for word in words
}

_LOCALITIES = {_fold(name): name for name in LOCALITIES}


@dataclass
class CompanyRow:
    """One company of the file; blank values leave an existing company's alone."""

    row: int
    org_number: str
    name: str = ""
    locality: str = ""
    address: str = ""
    sni_code: str = ""
    contact_name: str = ""
    contact_email: str = ""
    contact_phone: str = ""


COMPANY_FIELDS = tuple(f.name for f in fields(CompanyRow) if f.name != "row")


@dataclass(frozen=True)
class PlacementRow:
    row: int
    org_number: str
    kind: str
    title: str
    description: str = ""
    skills: tuple[str, ...] = ()
    places: int = 1
    start_date: date | None = None
    end_date: date | None = None
    supervisor_name: str = ""
    supervisor_contact: str = ""


@dataclass
class ParsedFile:
    companies: list[CompanyRow] = field(default_factory=list)  # file order
    placements: list[PlacementRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    warnings: list[RowError] = field(default_factory=list)  # imported all the same
    rows: int = 0  # data rows read (blank rows not counted)
    encoding: str = ""
    delimiter: str = ""
    columns: dict[str, str] = field(default_factory=dict)  # key -> header as written
    ignored_columns: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass(frozen=True)
class ImportSummary:
    companies_created: int = 0
    companies_updated: int = 0
    companies_unchanged: int = 0
    placements_created: int = 0
    placements_existing: int = 0  # already there: not created again


# -- parsing ---------------------------------------------------------------


def parse_file(raw: bytes) -> ParsedFile:
    """The file's companies and placements, or the errors that reject it."""
    parsed = ParsedFile()
    text = _decode(raw, parsed)
    if text is None:
        return parsed
    if not text.strip():
        parsed.errors.append(RowError(Problem.EMPTY))
        return parsed
    parsed.delimiter = _delimiter(text)
    try:
        records = list(
            csv.reader(io.StringIO(text, newline=""), delimiter=parsed.delimiter)
        )
    except csv.Error as exc:
        parsed.errors.append(RowError(Problem.BAD_CSV, params={"detail": str(exc)}))
        return parsed
    header, body = records[0], records[1:]
    positions = _read_header(header, parsed)
    if positions is None:
        return parsed
    numbered = [
        (number, record)
        for number, record in enumerate(body, start=2)
        if any(cell.strip() for cell in record)
    ]
    parsed.rows = len(numbered)
    if not numbered:
        parsed.errors.append(RowError(Problem.EMPTY))
        return parsed
    if len(numbered) > MAX_ROWS:
        parsed.errors.append(
            RowError(
                Problem.TOO_MANY_ROWS,
                params={"rows": len(numbered), "max": MAX_ROWS},
            )
        )
        return parsed
    companies: dict[str, CompanyRow] = {}
    for number, record in numbered:
        cells = {
            key: (record[index].strip() if index < len(record) else "")
            for key, index in positions.items()
        }
        _RowReader(parsed, number, cells, companies).read()
    parsed.companies = list(companies.values())
    return parsed


def _decode(raw: bytes, parsed: ParsedFile) -> str | None:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" in text:  # a spreadsheet or other binary file, not CSV
            break
        parsed.encoding = "utf-8" if encoding == "utf-8-sig" else encoding
        return text
    parsed.errors.append(RowError(Problem.NOT_TEXT))
    return None


def _delimiter(text: str) -> str:
    first_line = text.lstrip("\r\n").splitlines()[0]

    def known(delimiter: str) -> int:
        cells = next(csv.reader([first_line], delimiter=delimiter), [])
        return sum(_fold(cell) in _HEADER_KEYS for cell in cells)

    return max(_DELIMITERS, key=known)  # ties: the first, ";" (Swedish Excel)


def _read_header(header: list[str], parsed: ParsedFile) -> dict[str, int] | None:
    """Column key -> index in a record; None if the header rejects the file."""
    positions: dict[str, int] = {}
    for index, cell in enumerate(header):
        written = cell.strip()
        key = _HEADER_KEYS.get(_fold(written))
        if key is None:
            if written:
                parsed.ignored_columns.append(written)
        elif key in parsed.columns:
            parsed.errors.append(
                RowError(
                    Problem.DUPLICATE_COLUMN,
                    row=1,
                    column=written,
                    params={"other": parsed.columns[key]},
                )
            )
        else:
            parsed.columns[key] = written
            positions[key] = index
    for column in COLUMNS:
        if column.required and column.key not in parsed.columns:
            parsed.errors.append(
                RowError(
                    Problem.MISSING_COLUMN,
                    row=1,
                    column=column.name,
                    params={"names": ", ".join((column.name, column.key))},
                )
            )
    return None if parsed.errors else positions


class _RowReader:
    """Checks one data row and adds its company and placement to parsed."""

    def __init__(
        self,
        parsed: ParsedFile,
        row: int,
        cells: dict[str, str],
        companies: dict[str, CompanyRow],
    ) -> None:
        self.parsed = parsed
        self.row = row
        self.cells = cells
        self.companies = companies
        self.ok = True

    def error(self, problem: Problem, key: str, **params: Any) -> None:
        column = self.parsed.columns.get(key) or _BY_KEY[key].name
        self.parsed.errors.append(RowError(problem, self.row, column, params))
        self.ok = False

    def text(self, key: str, *, required: bool = False) -> str:
        value = self.cells.get(key, "")
        limit = _BY_KEY[key].max_length
        if required and not value:
            self.error(Problem.REQUIRED, key)
        elif limit is not None and len(value) > limit:
            self.error(Problem.TOO_LONG, key, max=limit, length=len(value))
            return ""
        elif key not in _NOT_FREE_TEXT and value:
            self.check_personal_data(key, value)
        return value

    def check_personal_data(self, key: str, value: str) -> None:
        """The form's check on every cell of free text: refuse an identity
        number (the value is not repeated in the report), warn about health."""
        if personal_data.contains_personal_number(value):
            self.error(Problem.PERSONAL_NUMBER, key)
        elif (mention := personal_data.student_health(value)) is not None:
            column = self.parsed.columns.get(key) or _BY_KEY[key].name
            self.parsed.warnings.append(
                RowError(
                    Problem.STUDENT_HEALTH,
                    self.row,
                    column,
                    {"name": mention.name, "word": mention.health_word},
                )
            )

    def read(self) -> None:
        company = self.read_company()
        if any(self.cells.get(key) for key in PLACEMENT_KEYS):
            placement = self.read_placement(company.org_number if company else "")
        else:
            placement = None
        if not self.ok or company is None:
            return
        self.merge(company)
        if self.ok and placement is not None:
            self.parsed.placements.append(placement)

    def read_company(self) -> CompanyRow | None:
        number = self.org_number()
        company = CompanyRow(
            row=self.row,
            org_number=number or "",
            name=self.text("name", required=True),
            locality=self.locality(),
            address=self.text("address"),
            sni_code=self.sni_code(),
            contact_name=self.text("contact_name"),
            contact_email=self.email(),
            contact_phone=self.text("contact_phone"),
        )
        return company if number else None

    def org_number(self) -> str | None:
        raw = self.cells.get("org_number", "")
        if not raw:
            self.error(Problem.REQUIRED, "org_number")
            return None
        try:
            return orgnumber.normalise(raw)
        except orgnumber.InvalidOrgNumber as exc:
            if exc.reason == "check_digit":
                self.error(Problem.ORG_NUMBER_CHECK_DIGIT, "org_number", value=raw)
            else:
                self.error(Problem.ORG_NUMBER_FORMAT, "org_number", value=raw[:40])
            return None

    def locality(self) -> str:
        raw = self.cells.get("locality", "")
        if not raw:
            self.error(Problem.REQUIRED, "locality")
            return ""
        name = _LOCALITIES.get(_fold(raw))
        if name is None:
            self.error(Problem.UNKNOWN_LOCALITY, "locality", value=raw[:100])
            return ""
        return name

    def sni_code(self) -> str:
        raw = self.cells.get("sni_code", "")
        if not raw:
            return ""
        digits = re.sub(r"[\s.]", "", raw)
        division = digits[:2]
        if not digits.isdigit() or division not in _sni_divisions():
            self.error(Problem.UNKNOWN_SNI, "sni_code", value=raw[:20])
            return ""
        return division

    def email(self) -> str:
        value = self.text("contact_email").lower()
        if value and not _EMAIL.match(value):
            self.error(Problem.BAD_EMAIL, "contact_email", value=value)
            return ""
        return value

    def read_placement(self, org_number: str) -> PlacementRow | None:
        kind = self.kind()
        title = self.text("title", required=True)
        description = self.text("description")
        skills = tuple(parse_tags(self.text("skills")))
        places = self.places()
        start = self.date("start_date")
        end = self.date("end_date")
        if start and end and end < start:
            self.error(Problem.END_BEFORE_START, "end_date")
        supervisor_name = self.text("supervisor_name")
        supervisor_contact = self.text("supervisor_contact")
        if not self.ok or kind is None or places is None:
            return None
        return PlacementRow(
            row=self.row,
            org_number=org_number,
            kind=kind,
            title=title,
            description=description,
            skills=skills,
            places=places,
            start_date=start,
            end_date=end,
            supervisor_name=supervisor_name,
            supervisor_contact=supervisor_contact,
        )

    def kind(self) -> str | None:
        raw = self.cells.get("kind", "")
        if not raw:
            self.error(Problem.REQUIRED, "kind")
            return None
        kind = _KINDS.get(_fold(raw))
        if kind is None:
            self.error(Problem.UNKNOWN_KIND, "kind", value=raw[:40])
        return kind

    def places(self) -> int | None:
        raw = self.cells.get("places", "")
        if not raw:
            return 1
        try:
            places = int(raw)
        except ValueError:
            self.error(Problem.BAD_NUMBER, "places", value=raw[:20])
            return None
        if places < 1:
            self.error(Problem.TOO_FEW_PLACES, "places")
            return None
        if places > MAX_PLACES:
            self.error(Problem.TOO_MANY_PLACES, "places", max=MAX_PLACES)
            return None
        return places

    def date(self, key: str) -> date | None:
        raw = self.cells.get(key, "")
        if not raw:
            return None
        for pattern in _DATE_FORMATS:
            try:
                return datetime.strptime(raw, pattern).date()
            except ValueError:
                continue
        self.error(Problem.BAD_DATE, key, value=raw[:20])
        return None

    def merge(self, company: CompanyRow) -> None:
        """Several rows of one company: fill blanks, refuse disagreements."""
        first = self.companies.get(company.org_number)
        if first is None:
            self.companies[company.org_number] = company
            return
        for name in COMPANY_FIELDS:
            mine, theirs = getattr(company, name), getattr(first, name)
            if mine and theirs and mine != theirs:
                self.error(Problem.CONFLICT, name, other_row=first.row)
            elif mine and not theirs:
                setattr(first, name, mine)


def _sni_divisions() -> frozenset[str]:
    return frozenset(i.code for i in industries() if i.level == 2)


# -- writing ---------------------------------------------------------------


def apply_import(
    session: Session, *, parsed: ParsedFile, actor: User, filename: str = ""
) -> ImportSummary:
    """Write the parsed file's companies and placements; flushes, never commits.

    Raises ImportRejected (having written nothing) if the file has errors.
    """
    if parsed.errors:
        raise ImportRejected(parsed.errors)
    existing = organisations.by_org_number(
        session, [c.org_number for c in parsed.companies]
    )
    number_column = parsed.columns.get("org_number", "")
    refused = [
        RowError(
            Problem.NOT_A_COMPANY,
            row=company.row,
            column=number_column,
            params={
                "value": company.org_number,
                "name": existing[company.org_number].name,
            },
        )
        for company in parsed.companies
        if company.org_number in existing
        and existing[company.org_number].kind != OrgKind.COMPANY
    ]
    if refused:
        raise ImportRejected(refused)

    # New rows are added first and flushed together (one batched INSERT per
    # table, not one round trip per row); their audit events need the ids.
    new_companies: list[Organisation] = []
    updated = unchanged = 0
    by_number: dict[str, Organisation] = {}
    for row in parsed.companies:
        organisation = existing.get(row.org_number)
        if organisation is None:
            organisation = _new_company(row)
            session.add(organisation)
            new_companies.append(organisation)
        elif _update_company(session, organisation=organisation, row=row, actor=actor):
            updated += 1
        else:
            unchanged += 1
        by_number[row.org_number] = organisation
    session.flush()
    add_all_to_areas(session, new_companies)
    for organisation in new_companies:
        audit.record(
            session,
            organisation,
            actor=actor,
            action="organisation.create",
            kind=organisation.kind,
            source="import",
        )

    keys = _placement_keys(session, [o.id for o in by_number.values() if o.id])
    new_placements: list[Placement] = []
    placements_existing = 0
    for row_placement in parsed.placements:
        company = by_number[row_placement.org_number]
        key = (
            company.id,
            row_placement.title,
            row_placement.start_date,
            row_placement.end_date,
        )
        if key in keys:
            placements_existing += 1
            continue
        keys.add(key)
        placement = _new_placement(row_placement, company=company, actor=actor)
        session.add(placement)
        new_placements.append(placement)
    session.flush()
    for placement in new_placements:
        audit.record(
            session,
            placement,
            actor=actor,
            action="placement.create",
            source="import",
        )

    summary = ImportSummary(
        companies_created=len(new_companies),
        companies_updated=updated,
        companies_unchanged=unchanged,
        placements_created=len(new_placements),
        placements_existing=placements_existing,
    )
    audit.record(
        session,
        actor=actor,
        action="import.csv",
        entity="import",
        entity_id=None,
        filename=filename[:200],
        rows=parsed.rows,
        encoding=parsed.encoding,
        **{f.name: getattr(summary, f.name) for f in fields(summary)},
    )
    session.flush()
    return summary


def _chunks(values: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


def _placement_keys(
    session: Session, company_ids: Sequence[int]
) -> set[tuple[int | None, str, date | None, date | None]]:
    keys: set[tuple[int | None, str, date | None, date | None]] = set()
    for chunk in _chunks(company_ids):
        query = select(
            col(Placement.company_id),
            col(Placement.title),
            col(Placement.start_date),
            col(Placement.end_date),
        ).where(col(Placement.company_id).in_(chunk))
        keys.update((c, t, s, e) for c, t, s, e in session.exec(query))
    return keys


def _new_company(row: CompanyRow) -> Organisation:
    position = LOCALITIES.get(row.locality)
    return Organisation(
        kind=OrgKind.COMPANY,
        name=row.name,
        org_number=row.org_number,
        address=row.address,
        locality=row.locality,
        lat=position[0] if position else None,
        lon=position[1] if position else None,
        sni_code=row.sni_code or None,
        contact_name=row.contact_name,
        contact_email=row.contact_email,
        contact_phone=row.contact_phone,
        approved=True,  # the business office vetted the file
    )


def _new_placement(
    row: PlacementRow, *, company: Organisation, actor: User
) -> Placement:
    """A placement at the company's own locality and position, as the form makes."""
    placement = Placement(
        company_id=company.id or 0,
        kind=row.kind,
        title=row.title,
        description=row.description,
        skills=list(row.skills),
        places=row.places,
        start_date=row.start_date,
        end_date=row.end_date,
        locality=company.locality,
        lat=company.lat,
        lon=company.lon,
        supervisor_name=row.supervisor_name,
        supervisor_contact=row.supervisor_contact,
        created_by_id=actor.id,
    )
    placement.search_text = placement_search_text(placement, company)
    return placement


def _update_company(
    session: Session, *, organisation: Organisation, row: CompanyRow, actor: User
) -> bool:
    """Copy the row's non-blank values; whether anything changed.

    A change is an edit of the profile: it takes the next edit version, so a
    profile form opened before the import is refused as stale, not saved over
    the file's values. The file overwrites by design, so the import claims
    whatever version is stored (claim_edit reloads it when someone saved
    between the read and the claim)."""
    if not _differs(organisation, row):
        return False
    while not organisations.claim_edit(
        session, organisation, read_version=organisation.version
    ):
        if not _differs(organisation, row):
            return False
    changed = []
    for name in COMPANY_FIELDS:
        value = getattr(row, name)
        if value and getattr(organisation, name) != value:
            setattr(organisation, name, value)
            changed.append(name)
    if "locality" in changed:
        position = LOCALITIES.get(organisation.locality)
        organisation.lat, organisation.lon = position if position else (None, None)
    if not organisation.approved:
        # Listed in a file the business office vetted: approved, as new ones are.
        organisation.approved = True
        changed.append("approved")
    organisation.updated_at = utcnow()
    session.add(organisation)
    audit.record(
        session,
        organisation,
        actor=actor,
        action="organisation.update",
        fields=changed,
        version=organisation.version,
        source="import",
    )
    return True


def _differs(organisation: Organisation, row: CompanyRow) -> bool:
    return not organisation.approved or any(
        getattr(row, name) and getattr(organisation, name) != getattr(row, name)
        for name in COMPANY_FIELDS
    )
