"""The columns of a company's downloads (CSV and Excel): its placements and skill
gaps, and the schools' needs and programmes it browses. Headers are translated
when the download is made."""

from typing import Any

from moraspar.companies.services import need_distance
from moraspar.i18n import lazy_gettext as _l
from moraspar.reference.labels import (
    HORIZON_LABELS,
    KIND_LABELS,
    LEVEL_LABELS,
    STATUS_LABELS,
    label,
)
from moraspar.web.export import Columns


def km(value: float | None) -> float | None:
    return round(value, 1) if value is not None else None


PLACEMENTS: Columns = (
    (_l("Title"), lambda p: p.title),
    (_l("Kind"), lambda p: label(KIND_LABELS, p.kind)),
    (_l("Status"), lambda p: label(STATUS_LABELS, p.status)),
    (_l("Places"), lambda p: p.places),
    (_l("Booked"), lambda p: p.places_booked),
    (_l("Start date"), lambda p: p.start_date),
    (_l("End date"), lambda p: p.end_date),
    (_l("Locality"), lambda p: p.locality),
    (_l("Skills"), lambda p: p.skills),
    (_l("Supervisor"), lambda p: p.supervisor_name),
    (_l("Supervisor's contact"), lambda p: p.supervisor_contact),
    (_l("Supervisor trained"), lambda p: p.supervisor_trained),
    (_l("Requirements"), lambda p: p.requirements),
)

SKILL_GAPS: Columns = (
    (_l("Title"), lambda g: g.title),
    (_l("Status"), lambda g: label(STATUS_LABELS, g.status)),
    (_l("People needed"), lambda g: g.headcount),
    (_l("When"), lambda g: label(HORIZON_LABELS, g.horizon)),
    (_l("Occupation code (SSYK)"), lambda g: g.ssyk_code),
    (_l("Skills"), lambda g: g.skills),
    (_l("Description"), lambda g: g.description),
)

PROGRAMMES: Columns = (
    (_l("Programme"), lambda h: h.programme.name),
    (_l("Code"), lambda h: h.programme.code),
    (_l("Orientation"), lambda h: h.programme.orientation),
    (_l("Level"), lambda h: label(LEVEL_LABELS, h.programme.level)),
    (_l("School"), lambda h: h.school.name),
    (_l("Locality"), lambda h: h.school.locality),
    (_l("Distance (km)"), lambda h: km(h.km)),
    (_l("Skills"), lambda h: h.programme.skills),
)


def need_columns(origin: tuple[float, float] | None) -> Columns:
    """Rows of services.needs_query: (need, school name, programme name)."""

    def distance(row: Any) -> float | None:
        return km(need_distance(row[0], origin))

    return (
        (_l("Title"), lambda r: r[0].title),
        (_l("Kind"), lambda r: label(KIND_LABELS, r[0].kind)),
        (_l("School"), lambda r: r[1]),
        (_l("Programme"), lambda r: r[2]),
        (_l("Students"), lambda r: r[0].students),
        (_l("Start date"), lambda r: r[0].start_date),
        (_l("End date"), lambda r: r[0].end_date),
        (_l("Locality"), lambda r: r[0].locality),
        (_l("Distance (km)"), distance),
        (_l("Skills"), lambda r: r[0].skills),
        (_l("Requirements"), lambda r: r[0].requirements),
    )
