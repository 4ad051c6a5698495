"""The skills-gap picture: companies' open skill gaps (demand) against the
programmes that address them (supply), grouped, plus the trend by term.

Which programme addresses which gap:
- When a match run has scored a gap (it has ProgrammeGapMatch rows), the
  programmes whose score is at least SUPPLY_THRESHOLD address it. 0.3 is where
  the ranker's reasons usually show a shared skill or several shared terms;
  below it a pairing rests on loose text similarity.
- A gap no run has scored yet (none has run, or the gap is newer than the last
  run) falls back to shared skill tags: a programme addresses it when the two
  share at least one skill tag (compared case-insensitively).
Only active programmes count. Supply is the programmes' places_per_year; a
programme that addresses gaps of several groups counts in each of them.

Plain functions, session passed in; nothing here imports flask or wtforms.
"""

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

import matching
from moraspar.council.scope import CouncilScope, within
from moraspar.models import (
    Horizon,
    Organisation,
    PostingStatus,
    Programme,
    ProgrammeGapMatch,
    SkillGap,
    load_columns,
)

SUPPLY_THRESHOLD = 0.3
TOP_SKILLS = 20
TREND_TERMS = 6

GROUP_AREA = "area"  # SSYK 2012 major group (first digit)
GROUP_SSYK2 = "ssyk2"  # SSYK 2012 sub-major group (first two digits)
GROUP_SKILL = "skill"  # each skill tag
GROUPINGS = (GROUP_AREA, GROUP_SSYK2, GROUP_SKILL)
UNCLASSIFIED = ""  # group key of gaps without an SSYK code or without skills


@dataclass(frozen=True)
class Filters:
    group: str = GROUP_AREA
    locality: str = ""
    horizon: str = ""

    def __post_init__(self) -> None:
        if self.group not in GROUPINGS:
            object.__setattr__(self, "group", GROUP_AREA)
        if self.horizon and self.horizon not in set(Horizon):
            object.__setattr__(self, "horizon", "")


@dataclass(frozen=True)
class Supplier:
    """A programme that addresses at least one gap."""

    programme_id: int
    name: str
    school: str
    places: int


@dataclass(frozen=True)
class GapLine:
    gap_id: int
    title: str
    company: str
    locality: str
    headcount: int
    horizon: str
    ssyk_code: str
    skills: tuple[str, ...]
    programmes: tuple[Supplier, ...]

    @property
    def addressed(self) -> bool:
        return bool(self.programmes)


@dataclass
class Group:
    key: str
    label: str  # the skill tag, or the SSYK code; the view adds a readable label
    gaps: list[GapLine] = field(default_factory=list)
    suppliers: dict[int, Supplier] = field(default_factory=dict)

    @property
    def gap_count(self) -> int:
        return len(self.gaps)

    @property
    def headcount(self) -> int:
        return sum(g.headcount for g in self.gaps)

    @property
    def places(self) -> int:
        return sum(s.places for s in self.suppliers.values())

    @property
    def programme_count(self) -> int:
        return len(self.suppliers)

    @property
    def unaddressed(self) -> list[GapLine]:
        return [g for g in self.gaps if not g.addressed]


@dataclass(frozen=True)
class Picture:
    groups: list[Group]
    gaps: list[GapLine]
    scored_by_run: int  # gaps whose supply comes from a match run

    @property
    def unaddressed(self) -> list[GapLine]:
        return [g for g in self.gaps if not g.addressed]

    @property
    def headcount(self) -> int:
        return sum(g.headcount for g in self.gaps)

    @property
    def max_value(self) -> int:
        """The largest bar of the chart (at least 1, to scale by)."""
        values = [g.headcount for g in self.groups] + [g.places for g in self.groups]
        return max([1, *values])


@dataclass(frozen=True)
class Term:
    key: str  # e.g. "HT2026"
    season: str  # "VT" (January–June) or "HT" (July–December)
    year: int
    start: date
    end: date  # exclusive
    gaps: int
    headcount: int


def _skill_key(tag: str) -> str:
    """The ranker's meaning of "the same skill" (stems of the label's words),
    so the gap picture and the matching agree; a tag of filler words only
    falls back to its folded text."""
    return matching.skill_key(tag) or " ".join(tag.lower().split())


# What the picture shows of a gap and its company (not their long texts).
_GAP_COLUMNS = (
    load_columns(
        SkillGap.id,
        SkillGap.company_id,
        SkillGap.title,
        SkillGap.headcount,
        SkillGap.horizon,
        SkillGap.ssyk_code,
        SkillGap.skills,
    ),
    load_columns(Organisation.id, Organisation.name, Organisation.locality),
)
_School = aliased(Organisation)


def _gap_rows(session: Session, filters: Filters, scope: CouncilScope) -> Sequence[Any]:
    query = (
        select(SkillGap, Organisation)
        .options(*_GAP_COLUMNS)
        .join(Organisation, col(Organisation.id) == SkillGap.company_id)
        .where(SkillGap.status == PostingStatus.OPEN)
        .where(within(scope, SkillGap.company_id))
        .order_by(col(SkillGap.id))
    )
    if filters.locality:
        query = query.where(Organisation.locality == filters.locality)
    if filters.horizon:
        query = query.where(SkillGap.horizon == filters.horizon)
    return session.exec(query).all()


def _suppliers(
    session: Session, gaps: Sequence[SkillGap], scope: CouncilScope
) -> tuple[dict[int, list[Supplier]], set[int]]:
    """{gap id: programmes addressing it}, and the ids of gaps a run scored."""
    gap_ids = [g.id for g in gaps if g.id is not None]
    found: dict[int, list[Supplier]] = defaultdict(list)
    if not gap_ids:
        return found, set()
    scored = set(
        session.exec(
            select(ProgrammeGapMatch.skill_gap_id)
            .where(col(ProgrammeGapMatch.skill_gap_id).in_(gap_ids))
            .distinct()
        ).all()
    )
    school = _School
    if scored:
        # The supplier's columns only: a programme row carries long texts
        # and skill lists that the picture never shows.
        rows = session.exec(
            select(  # type: ignore[call-overload]  # five columns: past the stubs' overloads
                ProgrammeGapMatch.skill_gap_id,
                Programme.id,
                Programme.name,
                Programme.places_per_year,
                school.name,
            )
            .join(Programme, col(Programme.id) == ProgrammeGapMatch.programme_id)
            .join(school, col(school.id) == Programme.school_id)
            .where(
                col(ProgrammeGapMatch.skill_gap_id).in_(scored),
                col(ProgrammeGapMatch.score) >= SUPPLY_THRESHOLD,
                col(Programme.active).is_(True),
                within(scope, Programme.school_id),
            )
            .order_by(col(ProgrammeGapMatch.score).desc(), col(Programme.id))
        ).all()
        for gap_id, programme_id, name, places, school_name in rows:
            found[gap_id].append(
                Supplier(
                    programme_id=programme_id,
                    name=name,
                    school=school_name,
                    places=max(places or 0, 0),
                )
            )
    unscored = [g for g in gaps if g.id not in scored and g.skills]
    if unscored:
        programmes = session.exec(
            select(Programme, school.name)
            .join(school, col(school.id) == Programme.school_id)
            .where(col(Programme.active).is_(True))
            .where(within(scope, Programme.school_id))
            .order_by(col(Programme.id))
        ).all()
        keyed = [
            ({_skill_key(s) for s in programme.skills or []}, programme, name)
            for programme, name in programmes
        ]
        for gap in unscored:
            wanted = {_skill_key(s) for s in gap.skills}
            assert gap.id is not None
            for keys, programme, name in keyed:
                if keys & wanted:
                    found[gap.id].append(_supplier(programme, name))
    return found, scored


def _supplier(programme: Programme, school_name: str) -> Supplier:
    assert programme.id is not None
    return Supplier(
        programme_id=programme.id,
        name=programme.name,
        school=school_name,
        places=max(programme.places_per_year or 0, 0),
    )


def _group_keys(line: GapLine, grouping: str) -> list[str]:
    if grouping == GROUP_SKILL:
        keys = list(dict.fromkeys(_skill_key(s) for s in line.skills if s.strip()))
        return keys or [UNCLASSIFIED]
    code = line.ssyk_code.strip()
    if not code or not code[0].isdigit():
        return [UNCLASSIFIED]
    return [code[:1] if grouping == GROUP_AREA else code[:2]]


def picture(session: Session, *, filters: Filters, scope: CouncilScope) -> Picture:
    """Open skill gaps of the companies in the scope's areas (demand) and the
    programmes of its schools that address them (supply)."""
    rows = _gap_rows(session, filters, scope)
    suppliers, scored = _suppliers(session, [gap for gap, _ in rows], scope)
    lines = []
    for gap, company in rows:
        assert gap.id is not None
        lines.append(
            GapLine(
                gap_id=gap.id,
                title=gap.title,
                company=company.name,
                locality=company.locality,
                headcount=gap.headcount,
                horizon=gap.horizon,
                ssyk_code=gap.ssyk_code or "",
                skills=tuple(gap.skills or ()),
                programmes=tuple(suppliers.get(gap.id, ())),
            )
        )
    groups: dict[str, Group] = {}
    spellings: dict[str, Counter[str]] = defaultdict(Counter)
    for line in lines:
        for key in _group_keys(line, filters.group):
            group = groups.setdefault(key, Group(key=key, label=key))
            group.gaps.append(line)
            for s in line.programmes:
                group.suppliers.setdefault(s.programme_id, s)
        if filters.group == GROUP_SKILL:
            for tag in line.skills:
                spellings[_skill_key(tag)][tag.strip()] += 1
    ordered = sorted(
        groups.values(),
        key=lambda g: (g.key == UNCLASSIFIED, -g.headcount, g.key),
    )
    if filters.group == GROUP_SKILL:
        for group in ordered:
            if group.key in spellings:
                group.label = spellings[group.key].most_common(1)[0][0]
        ordered = ordered[:TOP_SKILLS]
    return Picture(groups=ordered, gaps=lines, scored_by_run=len(scored))


def _term_of(day: date) -> tuple[str, int]:
    return ("VT" if day.month <= 6 else "HT"), day.year


def _term_start(season: str, year: int) -> date:
    return date(year, 1 if season == "VT" else 7, 1)


def _previous(season: str, year: int) -> tuple[str, int]:
    return ("HT", year - 1) if season == "VT" else ("VT", year)


def _next_start(season: str, year: int) -> date:
    return date(year, 7, 1) if season == "VT" else date(year + 1, 1, 1)


def trend(
    session: Session,
    *,
    filters: Filters,
    today: date,
    scope: CouncilScope,
    terms: int = TREND_TERMS,
) -> list[Term]:
    """Skill gaps posted per term (by created_at, any status), oldest first:
    the last `terms` terms up to and including the one `today` falls in."""
    season, year = _term_of(today)
    spans = [(season, year)]
    for _ in range(terms - 1):
        spans.append(_previous(*spans[-1]))
    spans.reverse()
    first = datetime.combine(_term_start(*spans[0]), datetime.min.time(), UTC)
    query = (
        select(SkillGap.created_at, SkillGap.headcount)
        .join(Organisation, col(Organisation.id) == SkillGap.company_id)
        .where(col(SkillGap.created_at) >= first)
        .where(within(scope, SkillGap.company_id))
    )
    if filters.locality:
        query = query.where(Organisation.locality == filters.locality)
    if filters.horizon:
        query = query.where(SkillGap.horizon == filters.horizon)
    counts: Counter[tuple[str, int]] = Counter()
    heads: Counter[tuple[str, int]] = Counter()
    for created_at, headcount in session.exec(query).all():
        key = _term_of(_local_day(created_at))
        counts[key] += 1
        heads[key] += headcount
    return [
        Term(
            key=f"{s}{y}",
            season=s,
            year=y,
            start=_term_start(s, y),
            end=_next_start(s, y),
            gaps=counts[(s, y)],
            headcount=heads[(s, y)],
        )
        for s, y in spans
    ]


def _local_day(value: datetime) -> date:
    # Stored UTC (naive on SQLite); a term boundary at midnight UTC is close
    # enough for a half-year bucket.
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.date()


def localities(session: Session, *, scope: CouncilScope) -> list[str]:
    """Localities of the scope's companies that have posted skill gaps, for
    the filter."""
    names = session.exec(
        select(Organisation.locality)
        .join(SkillGap, col(SkillGap.company_id) == Organisation.id)
        .where(Organisation.locality != "")
        .where(within(scope, Organisation.id))
        .distinct()
    ).all()
    return sorted(set(names))


def max_of(values: Iterable[int]) -> int:
    return max([1, *values])
