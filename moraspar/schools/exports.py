"""The columns of school staff's downloads (CSV and Excel): their needs and the
placement search. Headers are translated when the download is made."""

from moraspar.i18n import lazy_gettext as _l
from moraspar.reference.labels import KIND_LABELS, STATUS_LABELS, label
from moraspar.reference.vocabulary import industry_label
from moraspar.web.export import Columns

# Rows of services.need_query: (need, programme name or None).
NEEDS: Columns = (
    (_l("Title"), lambda r: r[0].title),
    (_l("Kind"), lambda r: label(KIND_LABELS, r[0].kind)),
    (_l("Programme"), lambda r: r[1] or ""),
    (_l("Students"), lambda r: r[0].students),
    (_l("Start date"), lambda r: r[0].start_date),
    (_l("End date"), lambda r: r[0].end_date),
    (_l("Locality"), lambda r: r[0].locality),
    (_l("Farthest travel distance (km)"), lambda r: r[0].max_km),
    (_l("Skills or learning goals"), lambda r: r[0].skills),
    (_l("Requirements"), lambda r: r[0].requirements),
    (_l("Status"), lambda r: label(STATUS_LABELS, r[0].status)),
    (_l("Updated"), lambda r: r[0].updated_at),
)

# services.PlacementHit rows.
PLACEMENT_HITS: Columns = (
    (_l("Company"), lambda h: h.company.name),
    (_l("Title"), lambda h: h.placement.title),
    (_l("Kind"), lambda h: label(KIND_LABELS, h.placement.kind)),
    (_l("Locality"), lambda h: h.placement.locality or h.company.locality),
    (_l("Distance (km)"), lambda h: round(h.km, 1) if h.km is not None else None),
    (_l("Start date"), lambda h: h.placement.start_date),
    (_l("End date"), lambda h: h.placement.end_date),
    (_l("Free places"), lambda h: h.free),
    (_l("Skills"), lambda h: h.placement.skills),
    (_l("Industry"), lambda h: industry_label(h.company.sni_code)),
    (_l("Contact person"), lambda h: h.company.contact_name),
    (_l("Contact email"), lambda h: h.company.contact_email),
)
