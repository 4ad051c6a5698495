"""The import's problems in the user's language (kept apart so that services.py
imports no flask)."""

from collections.abc import Sequence

from moraspar.i18n import gettext as _
from moraspar.imports.services import MAX_PLACES, Problem, RowError


def describe(error: RowError) -> str:
    p = dict(error.params)
    match error.problem:
        case Problem.NOT_TEXT:
            return _(
                "The file is not a CSV text file. In Excel, choose Save as → "
                "CSV UTF-8 or CSV (semicolon separated)."
            )
        case Problem.BAD_CSV:
            return _("The file could not be read as CSV (%(detail)s).", **p)
        case Problem.EMPTY:
            return _("The file has no rows to import under the header row.")
        case Problem.TOO_MANY_ROWS:
            return _(
                "The file has %(rows)s rows; at most %(max)s can be imported at "
                "once. Split it into smaller files.",
                **p,
            )
        case Problem.MISSING_COLUMN:
            return _(
                "The column is missing. Name it one of: %(names)s.",
                **p,
            )
        case Problem.DUPLICATE_COLUMN:
            return _("This column appears twice (also as “%(other)s”).", **p)
        case Problem.REQUIRED:
            return _("This value is required.")
        case Problem.ORG_NUMBER_FORMAT:
            return _(
                "“%(value)s” is not an organisation number: write ten digits, "
                "e.g. 556036-0793.",
                **p,
            )
        case Problem.ORG_NUMBER_CHECK_DIGIT:
            return _(
                "The check digit of “%(value)s” is wrong: please check the number.",
                **p,
            )
        case Problem.UNKNOWN_LOCALITY:
            return _(
                "“%(value)s” is not a locality we know in Mora, Orsa or Älvdalen.",
                **p,
            )
        case Problem.UNKNOWN_KIND:
            return _(
                "“%(value)s” is not a kind of placement. Use APL, prao, "
                "studiebesök, gästföreläsning or projekt.",
                **p,
            )
        case Problem.UNKNOWN_SNI:
            return _("“%(value)s” is not an SNI 2007 industry code.", **p)
        case Problem.BAD_EMAIL:
            return _("“%(value)s” is not a valid email address.", **p)
        case Problem.BAD_NUMBER:
            return _("“%(value)s” is not a whole number.", **p)
        case Problem.TOO_FEW_PLACES:
            return _("The number of places must be at least 1.")
        case Problem.TOO_MANY_PLACES:
            return _("The number of places can be at most %(max)s.", max=MAX_PLACES)
        case Problem.BAD_DATE:
            return _(
                "“%(value)s” is not a date: write it as YYYY-MM-DD, e.g. 2027-02-01.",
                **p,
            )
        case Problem.END_BEFORE_START:
            return _("The end date is before the start date.")
        case Problem.TOO_LONG:
            return _(
                "The text is too long: %(length)s characters, at most %(max)s.", **p
            )
        case Problem.CONFLICT:
            return _(
                "The same company has a different value on row %(other_row)s.", **p
            )
        case Problem.NOT_A_COMPANY:
            return _(
                "The organisation number %(value)s belongs to %(name)s, which is "
                "not a company.",
                **p,
            )
        case Problem.PERSONAL_NUMBER:
            return _(
                "This looks like a personal identity number; the row is refused. "
                "Describe students as a group only: no names, identity numbers or "
                "health data."
            )
        case Problem.STUDENT_HEALTH:
            return _(
                "This seems to name a student (%(name)s) together with health "
                "information (“%(word)s”).",
                **p,
            )
    return str(error.problem)  # pragma: no cover - every problem is listed above


# Rows named in the warning after an import: it travels in the session cookie.
WARNING_ROWS_SHOWN = 20


def describe_warnings(warnings: Sequence[RowError]) -> str:
    """One notice for the rows imported with a student's health data in them."""
    rows = ", ".join(
        f"{warning.row} ({warning.column})" for warning in warnings[:WARNING_ROWS_SHOWN]
    )
    if len(warnings) > WARNING_ROWS_SHOWN:
        rows += " …"
    return _(
        "Imported, but these rows seem to name a student together with health "
        "information: %(rows)s. Moraspår must not hold health data about students: "
        "it is special category data under the GDPR (article 9), and the school's "
        "duty of confidentiality covers it. Please edit those placements so that "
        "they describe the group only.",
        rows=rows,
    )
