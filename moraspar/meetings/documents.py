"""The meeting's agenda and decisions as an OpenDocument text (.odt), and its
lists as rows for moraspar.web.export (Excel/CSV).

Why ODF and odfpy: ODF (ISO/IEC 26300) is the open document format Swedish
public bodies are advised to use for exchange; LibreOffice opens it natively,
and Word and Google Docs open it too. odfpy writes it from plain Python and
reads it back, which the tests use. (python-docx would have done .docx just as
well; one format is enough, and the open one suits a municipal council.)

Translated in the user's language at export time, so this module belongs to
the web layer (it uses flask_babel), not to services.
"""

import io
import re
from collections.abc import Sequence

from flask_babel import format_date, format_percent
from odf import teletype
from odf.opendocument import OpenDocumentText
from odf.style import ParagraphProperties, Style, TextProperties
from odf.text import H, P

from moraspar.i18n import gettext as _
from moraspar.meetings.services import HELD, AgendaItem
from moraspar.models import Council, Meeting
from moraspar.reference.labels import HORIZON_LABELS, PROPOSAL_STATUS_LABELS, label

ODT_MIMETYPE = "application/vnd.oasis.opendocument.text"

# Characters XML 1.0 does not allow; a pasted control character would make the
# file unreadable.
_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _clean(text: object) -> str:
    return _ILLEGAL_XML.sub("", str(text))


def item_subject(entry: AgendaItem) -> str:
    if entry.proposal is not None:
        p = entry.proposal
        return _(
            "Proposal: %(need)s (%(school)s) at %(placement)s (%(company)s)",
            need=p.need.title,
            school=p.school.name,
            placement=p.placement.title,
            company=p.company.name,
        )
    if entry.gap is not None:
        return _(
            "Skill gap: %(title)s (%(company)s)",
            title=entry.gap.gap.title,
            company=entry.gap.company.name,
        )
    return _("Item no longer available")


def item_details(entry: AgendaItem) -> list[str]:
    if entry.proposal is not None:
        p = entry.proposal
        return [
            _("Score: %(score)s", score=format_percent(p.proposal.score)),
            _("Students: %(num)d", num=p.need.students),
            _(
                "Status: %(status)s",
                status=label(PROPOSAL_STATUS_LABELS, p.proposal.status),
            ),
        ]
    if entry.gap is not None:
        g = entry.gap.gap
        lines = [
            _("People needed: %(num)d", num=g.headcount),
            _("When: %(horizon)s", horizon=label(HORIZON_LABELS, g.horizon)),
        ]
        if g.skills:
            lines.append(_("Skills: %(skills)s", skills=", ".join(g.skills)))
        return lines
    return []


def _styles(doc: OpenDocumentText) -> dict[str, Style]:
    styles = {}
    for name, size, bold, space in (
        ("Title", "20pt", True, "0.4cm"),
        ("Heading2", "14pt", True, "0.3cm"),
        ("Body", "11pt", False, "0.1cm"),
        ("Decision", "11pt", True, "0.2cm"),
    ):
        style = Style(name=name, family="paragraph")
        style.addElement(
            TextProperties(fontsize=size, fontweight="bold" if bold else "normal")
        )
        style.addElement(ParagraphProperties(marginbottom=space))
        doc.styles.addElement(style)
        styles[name] = style
    return styles


def meeting_odt(
    *, meeting: Meeting, council: Council, items: Sequence[AgendaItem]
) -> bytes:
    """The agenda with each item's decision, as .odt bytes."""
    doc = OpenDocumentText()
    styles = _styles(doc)

    def add(element_type: type, style: str, text: str, **kw: object) -> None:
        element = element_type(stylename=styles[style], **kw)
        teletype.addTextToElement(element, _clean(text))
        doc.text.addElement(element)

    add(H, "Title", meeting.title, outlinelevel=1)
    add(P, "Body", _("Council: %(name)s", name=council.name))
    add(P, "Body", _("Date: %(date)s", date=format_date(meeting.held_on, "long")))
    add(
        P,
        "Body",
        _(
            "Status: %(status)s",
            status=_("Held") if meeting.status == HELD else _("Planned"),
        ),
    )
    if meeting.notes:
        add(P, "Body", meeting.notes)
    add(H, "Heading2", _("Agenda and decisions"), outlinelevel=2)
    if not items:
        add(P, "Body", _("The agenda is empty."))
    for number, entry in enumerate(items, start=1):
        add(H, "Heading2", f"{number}. {item_subject(entry)}", outlinelevel=2)
        for line in item_details(entry):
            add(P, "Body", line)
        decision = entry.item.decision or _("No decision recorded.")
        add(P, "Decision", _("Decision: %(text)s", text=decision))
    out = io.BytesIO()
    doc.write(out)
    return out.getvalue()


def proposal_rows(items: Sequence[AgendaItem]) -> tuple[list[str], list[list[object]]]:
    headers = [
        _("Item"),
        _("Need"),
        _("School"),
        _("Placement"),
        _("Company"),
        _("Students"),
        _("Score"),
        _("Status"),
        _("Decision"),
    ]
    rows: list[list[object]] = []
    for number, entry in enumerate(items, start=1):
        if entry.proposal is None:
            continue
        p = entry.proposal
        rows.append(
            [
                number,
                p.need.title,
                p.school.name,
                p.placement.title,
                p.company.name,
                p.need.students,
                round(p.proposal.score, 3),
                label(PROPOSAL_STATUS_LABELS, p.proposal.status),
                entry.item.decision,
            ]
        )
    return headers, rows


def gap_rows(items: Sequence[AgendaItem]) -> tuple[list[str], list[list[object]]]:
    headers = [
        _("Item"),
        _("Skill gap"),
        _("Company"),
        _("Locality"),
        _("People needed"),
        _("When"),
        _("Skills"),
        _("Decision"),
    ]
    rows: list[list[object]] = []
    for number, entry in enumerate(items, start=1):
        if entry.gap is None:
            continue
        g, company = entry.gap.gap, entry.gap.company
        rows.append(
            [
                number,
                g.title,
                company.name,
                company.locality,
                g.headcount,
                label(HORIZON_LABELS, g.horizon),
                list(g.skills or []),
                entry.item.decision,
            ]
        )
    return headers, rows
