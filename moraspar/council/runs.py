"""Match runs: rank and allocate over the open postings, store the proposals.

A run is a job, not a request, so unlike the other services it owns its
transactions:

- the run row's status (queued → running with progress → done / failed) is
  committed in short transactions of its own, so that a status page polling
  from another connection sees it move;
- everything is computed first, reading only; then the proposals and the
  programme–gap matches are replaced and the run marked done in ONE commit.
  An exception anywhere rolls that back, so the previous proposals stay, and
  the run is marked failed with the reason in a separate short transaction.

What a re-run keeps (the council's decisions are never overwritten):

- approved, booked, declined and withdrawn proposals are left exactly as they
  are, score and reasons included: they record what the council decided on;
- those pairs are removed from the candidates BEFORE allocation, so a declined
  pair is never proposed again and its capacity goes elsewhere;
- students of approved and booked proposals are subtracted from their need,
  and students of approved proposals from the placement's free places (booked
  ones are already counted in `Placement.places_booked`);
- proposed and deferred pairs that are ranked again get the new score, parts,
  reasons, students and run id (deferred ones stay deferred);
- proposed pairs no longer ranked are deleted, unless a meeting agenda points
  at them (then they stay, with 0 students); deferred pairs no longer ranked
  stay deferred with 0 students.
"""

import hashlib
import json
import logging
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, fields
from datetime import date, datetime, timedelta
from typing import Any, Protocol

import sqlalchemy as sa
from sqlmodel import Session, col, select

import matching
from moraspar import audit
from moraspar.council.scope import CouncilScope, check_council, council_area
from moraspar.models import (
    MatchProposal,
    MatchRun,
    MeetingItem,
    Need,
    Organisation,
    Placement,
    PostingStatus,
    Programme,
    ProgrammeGapMatch,
    ProposalStatus,
    RankerWeights,
    RunStatus,
    SkillGap,
    User,
    utcnow,
)
from moraspar.reference.gazetteer import coordinates

log = logging.getLogger(__name__)

TOP_K = 10  # offers kept per need
GAP_TOP_K = 5  # programmes kept per skill gap
GAP_KIND = "gap"
# A queued or running run older than this was interrupted (process restart).
STALE_AFTER = timedelta(hours=1)

# The phases a run reports, in order; progress counts finished phases.
PHASES = ("load", "rank", "allocate", "gaps", "save")

# Pairs the council has decided on: never proposed again by a run.
DECIDED = frozenset(
    {
        ProposalStatus.APPROVED,
        ProposalStatus.BOOKED,
        ProposalStatus.DECLINED,
        ProposalStatus.WITHDRAWN,
    }
)
# Proposals a run may update (score, reasons, students).
RERANKED = frozenset({ProposalStatus.PROPOSED, ProposalStatus.DEFERRED})

Progress = Callable[[int, int, str], None]
SessionSource = Session | Callable[[], Session]


class RunError(Exception):
    """Base of the named errors of match runs."""


class RunInProgress(RunError):
    """Another run is queued or running; start it again when it has finished."""

    def __init__(self, run: MatchRun) -> None:
        super().__init__(f"run {run.id} is {run.status}")
        self.run = run


class RunNotFound(RunError):
    pass


class MatchRunFailed(RunError):
    """The run failed; it is marked failed and the previous proposals stay."""

    def __init__(self, run_id: int, reason: str) -> None:
        super().__init__(reason)
        self.run_id = run_id
        self.reason = reason


@dataclass(frozen=True)
class RunSummary:
    run_id: int
    needs: int  # open needs with students left to place
    placements: int  # open placements with free places
    proposals: int  # proposed/deferred pairs stored by this run
    students_needed: int
    students_covered: int  # allocated by this run
    uncovered_needs: int  # needs of the run with no student allocated
    gap_matches: int
    ranker_version: str


# -- run rows ----------------------------------------------------------------


def is_stale(run: MatchRun, *, now: datetime | None = None) -> bool:
    if run.status not in (RunStatus.QUEUED, RunStatus.RUNNING):
        return False
    return run.created_at < (now or utcnow()) - STALE_AFTER


def fail_stale_runs(session: Session) -> int:
    """Mark runs that were interrupted (queued/running for too long) failed."""
    active = session.exec(
        select(MatchRun).where(
            col(MatchRun.status).in_([RunStatus.QUEUED, RunStatus.RUNNING])
        )
    ).all()
    stale = [run for run in active if is_stale(run)]
    for run in stale:
        run.status = RunStatus.FAILED
        run.error = "interrupted: the run did not finish"
        run.finished_at = utcnow()
        session.add(run)
    session.flush()
    return len(stale)


def active_run(session: Session) -> MatchRun | None:
    """The queued or running run that is not stale, if any."""
    runs = session.exec(
        select(MatchRun)
        .where(col(MatchRun.status).in_([RunStatus.QUEUED, RunStatus.RUNNING]))
        .order_by(col(MatchRun.id).desc())
    ).all()
    return next((run for run in runs if not is_stale(run)), None)


def queued_run(session: Session) -> MatchRun | None:
    """The oldest queued run that is not stale, if any."""
    fail_stale_runs(session)
    return session.exec(
        select(MatchRun)
        .where(MatchRun.status == RunStatus.QUEUED)
        .order_by(col(MatchRun.id))
        .limit(1)
    ).first()


def create_run(
    session: Session, *, actor: User | None, council_id: int | None = None
) -> MatchRun:
    """A queued run (flushed, not committed) over the needs of the council's
    schools, or of every school without a council; RunInProgress if one is
    active (one run at a time: councils share the placements)."""
    fail_stale_runs(session)
    running = active_run(session)
    if running is not None:
        raise RunInProgress(running)
    run = MatchRun(
        council_id=council_id,
        status=RunStatus.QUEUED,
        total=len(PHASES),
        triggered_by_id=actor.id if actor else None,
    )
    session.add(run)
    session.flush()
    audit.record(
        session,
        run,
        actor=actor,
        action="match_run.queue",
    )
    return run


def visible(scope: CouncilScope) -> Any:
    """A WHERE clause: runs of the scope's councils, and runs over every
    council (started from the command line)."""
    if scope.council_ids is None:
        return sa.true()
    return sa.or_(
        col(MatchRun.council_id).is_(None),
        col(MatchRun.council_id).in_(sorted(scope.council_ids)),
    )


def check_run(scope: CouncilScope, run: MatchRun) -> None:
    """NotAMember unless the scope may see the run."""
    if run.council_id is not None:
        check_council(scope, run.council_id)


def latest_run(
    session: Session, *, scope: CouncilScope, status: str | None = None
) -> MatchRun | None:
    query = select(MatchRun).where(visible(scope))
    if status is not None:
        query = query.where(MatchRun.status == status)
    return session.exec(query.order_by(col(MatchRun.id).desc()).limit(1)).first()


def recent_runs_query(*, scope: CouncilScope) -> Any:
    return select(MatchRun).where(visible(scope)).order_by(col(MatchRun.id).desc())


# -- weights -----------------------------------------------------------------


def active_weights(session: Session) -> tuple[matching.Weights | None, str]:
    """The active RankerWeights as matching.Weights (None = library defaults),
    and the ranker version string stored with the run.

    Keys that are not fields of matching.Weights are ignored. Stored weights
    the library refuses fall back to the defaults (logged), so one bad row
    cannot stop every run.
    """
    row = session.exec(
        select(RankerWeights)
        .where(col(RankerWeights.active).is_(True))
        .order_by(col(RankerWeights.created_at).desc(), col(RankerWeights.id).desc())
        .limit(1)
    ).first()
    weights: matching.Weights | None = None
    label = "default"
    if row is not None:
        known = {f.name for f in fields(matching.Weights)}
        values = {
            k: float(v)
            for k, v in (row.weights or {}).items()
            if k in known and isinstance(v, int | float)
        }
        try:
            weights = matching.Weights(**values)
            label = f"w{row.id}"
        except matching.InvalidWeights:
            log.warning("ranker weights %s are invalid; using defaults", row.id)
    effective = weights if weights is not None else matching.Weights()
    digest = hashlib.sha1(
        json.dumps(asdict(effective), sort_keys=True).encode(), usedforsecurity=False
    ).hexdigest()[:10]
    return weights, f"matching-{label}-{digest}"[:40]


# -- postings ----------------------------------------------------------------


def _position(
    lat: float | None, lon: float | None, *fallbacks: str
) -> tuple[float | None, float | None]:
    if lat is not None and lon is not None:
        return lat, lon
    for locality in fallbacks:
        found = coordinates(locality or "")
        if found:
            return found
    return None, None


def _text(*parts: str) -> str:
    return "\n".join(p.strip() for p in parts if p and p.strip())


def need_posting(need: Need, *, students: int) -> matching.Posting:
    lat, lon = _position(need.lat, need.lon, need.locality)
    return matching.Posting(
        id=str(need.id),
        kind=need.kind,
        title=need.title,
        text=_text(need.description, need.requirements),
        skills=tuple(need.skills or ()),
        count=students,
        start=need.start_date,
        end=need.end_date,
        lat=lat,
        lon=lon,
        max_km=need.max_km,
    )


class Place(Protocol):
    """Where something is: a `Placement`, an `Organisation`, or a row of
    their columns (`moraspar.ranking.services` reads columns, not objects)."""

    @property
    def lat(self) -> float | None: ...
    @property
    def lon(self) -> float | None: ...
    @property
    def locality(self) -> str: ...


class PlacementFields(Place, Protocol):
    """What a placement's posting is made of."""

    @property
    def id(self) -> int | None: ...
    @property
    def kind(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def description(self) -> str: ...
    @property
    def tasks(self) -> str: ...
    @property
    def requirements(self) -> str: ...
    @property
    def skills(self) -> list[str]: ...
    @property
    def start_date(self) -> date | None: ...
    @property
    def end_date(self) -> date | None: ...


def placement_posting(
    placement: PlacementFields, company: Place, *, free: int
) -> matching.Posting:
    lat, lon = _position(placement.lat, placement.lon, placement.locality)
    if lat is None:
        lat, lon = _position(company.lat, company.lon, company.locality)
    return matching.Posting(
        id=str(placement.id),
        kind=placement.kind,
        title=placement.title,
        text=_text(placement.description, placement.tasks, placement.requirements),
        skills=tuple(placement.skills or ()),
        count=free,
        start=placement.start_date,
        end=placement.end_date,
        lat=lat,
        lon=lon,
    )


def gap_posting(gap: SkillGap) -> matching.Posting:
    return matching.Posting(
        id=str(gap.id),
        kind=GAP_KIND,
        title=gap.title,
        text=gap.description,
        skills=tuple(gap.skills or ()),
        count=max(1, gap.headcount),
    )


def programme_posting(programme: Programme) -> matching.Posting:
    return matching.Posting(
        id=str(programme.id),
        kind=GAP_KIND,
        title=programme.name,
        text=_text(programme.orientation, programme.description),
        skills=tuple(programme.skills or ()),
        count=max(1, programme.places_per_year),
    )


def _in_area(council_id: int | None, column: Any) -> Any:
    """A WHERE clause: column (an organisation id) is in the council's area;
    no restriction for a run over every council."""
    if council_id is None:
        return sa.true()
    return col(column).in_(council_area(council_id))


def open_needs(
    session: Session, *, today: date, council_id: int | None = None
) -> Sequence[Need]:
    return session.exec(
        select(Need)
        .where(Need.status == PostingStatus.OPEN)
        .where(sa.or_(col(Need.end_date).is_(None), col(Need.end_date) >= today))
        .where(_in_area(council_id, Need.school_id))
        .order_by(col(Need.id))
    ).all()


def open_placements(
    session: Session, *, today: date, kind: str | None = None
) -> Sequence[tuple[Placement, Organisation]]:
    """Open placements of approved companies, with their company."""
    query = (
        select(Placement, Organisation)
        .join(Organisation, col(Organisation.id) == Placement.company_id)
        .where(*open_placement_rules(today))
        .order_by(col(Placement.id))
    )
    if kind is not None:
        query = query.where(Placement.kind == kind)
    return session.exec(query).all()


def open_placement_rules(today: date) -> tuple[sa.ColumnElement[bool], ...]:
    """What makes a placement open to matching, for a query that joins its
    company: open, of an approved company, not ended before today."""
    return (
        col(Placement.status) == PostingStatus.OPEN,
        col(Organisation.approved).is_(True),
        sa.or_(col(Placement.end_date).is_(None), col(Placement.end_date) >= today),
    )


def _decided_load(
    session: Session,
) -> tuple[set[tuple[int, int]], dict[int, int], dict[int, int]]:
    """Decided pairs, students taken per need and per placement by decisions."""
    rows = session.exec(
        select(
            MatchProposal.need_id,
            MatchProposal.placement_id,
            MatchProposal.status,
            MatchProposal.students,
        ).where(col(MatchProposal.status).in_(list(DECIDED)))
    ).all()
    pairs: set[tuple[int, int]] = set()
    per_need: dict[int, int] = defaultdict(int)
    per_placement: dict[int, int] = defaultdict(int)
    for need_id, placement_id, status, students in rows:
        pairs.add((need_id, placement_id))
        if status in (ProposalStatus.APPROVED, ProposalStatus.BOOKED):
            per_need[need_id] += students
        if status == ProposalStatus.APPROVED:
            # Booked students are already in Placement.places_booked.
            per_placement[placement_id] += students
    return pairs, per_need, per_placement


# -- the run -----------------------------------------------------------------


@dataclass
class _Plan:
    """Everything a run computed, ready to be written in one transaction."""

    needs: list[matching.Posting]
    offers: list[matching.Posting]
    matches: dict[str, list[matching.Match]]
    students: dict[tuple[str, str], int]
    gap_matches: dict[str, list[matching.Match]]
    skipped: list[str]


def _filtered(
    ranked: dict[str, list[matching.Match]], excluded: set[tuple[int, int]]
) -> dict[str, list[matching.Match]]:
    return {
        need_id: [
            m for m in matches if (int(m.need_id), int(m.offer_id)) not in excluded
        ][:TOP_K]
        for need_id, matches in ranked.items()
    }


def _try(
    skipped: list[str], make: Callable[..., matching.Posting], *args: Any, **kw: Any
) -> matching.Posting | None:
    # One broken posting (e.g. end before start saved by an import) must not
    # stop the run for everyone; it is left out and named in the log.
    try:
        return make(*args, **kw)
    except matching.InvalidPosting as exc:
        skipped.append(str(exc))
        log.warning("match run skips %s", exc)
        return None


def _compute(
    session: Session,
    *,
    ranker: matching.Ranker,
    today: date,
    step: Callable[[str], None],
    council_id: int | None = None,
) -> _Plan:
    """Rank and allocate the open needs of the council's schools (all without
    a council) over every open placement, whose free places count the
    decisions of every council; and the council's companies' skill gaps over
    its schools' programmes."""
    skipped: list[str] = []
    excluded, need_taken, placement_taken = _decided_load(session)

    needs: list[matching.Posting] = []
    for need in open_needs(session, today=today, council_id=council_id):
        left = need.students - need_taken.get(need.id or 0, 0)
        if left >= 1:
            p = _try(skipped, need_posting, need, students=left)
            if p is not None:
                needs.append(p)
    offers: list[matching.Posting] = []
    for placement, company in open_placements(session, today=today):
        free = (
            placement.places
            - placement.places_booked
            - placement_taken.get(placement.id or 0, 0)
        )
        if free >= 1:
            p = _try(skipped, placement_posting, placement, company, free=free)
            if p is not None:
                offers.append(p)
    gaps = [
        gap_posting(g)
        for g in session.exec(
            select(SkillGap)
            .join(Organisation, col(Organisation.id) == SkillGap.company_id)
            .where(SkillGap.status == PostingStatus.OPEN)
            .where(col(Organisation.approved).is_(True))
            .where(_in_area(council_id, SkillGap.company_id))
            .order_by(col(SkillGap.id))
        ).all()
    ]
    programmes = [
        programme_posting(p)
        for p in session.exec(
            select(Programme)
            .where(col(Programme.active).is_(True))
            .where(_in_area(council_id, Programme.school_id))
            .order_by(col(Programme.id))
        ).all()
    ]
    step("load")

    # Ask for extra offers per need so that TOP_K remain after the decided
    # pairs are taken out.
    extra: dict[int, int] = defaultdict(int)
    for need_id, _placement_id in excluded:
        extra[need_id] += 1
    k = TOP_K + max(extra.values(), default=0)
    ranked = ranker.rank(needs, offers, k=k) if needs else {}
    matches = _filtered(ranked, excluded)
    step("rank")

    assignments = matching.allocate(needs, offers, matches) if needs else []
    students = {(a.need_id, a.offer_id): a.students for a in assignments}
    step("allocate")

    gap_matches = (
        ranker.rank(gaps, programmes, k=GAP_TOP_K) if gaps and programmes else {}
    )
    step("gaps")
    return _Plan(needs, offers, matches, students, gap_matches, skipped)


def _reasons(match: matching.Match) -> list[dict[str, Any]]:
    return [
        {"code": r.code, "value": r.value, "values": list(r.values)}
        for r in match.reasons
    ]


def _store(session: Session, plan: _Plan, *, run: MatchRun) -> int:
    """Write the plan's proposals and programme–gap matches; flush only.

    A council's run replaces only the proposals of its schools' needs and the
    matches of its schools' programmes: other councils' work stays as it is.
    """
    now = utcnow()
    # Read again now: a council member may have decided while we computed.
    existing = {
        (p.need_id, p.placement_id): p
        for p in session.exec(
            select(MatchProposal)
            .join(Need, col(Need.id) == MatchProposal.need_id)
            .where(_in_area(run.council_id, Need.school_id))
        )
    }
    ranked_pairs: set[tuple[int, int]] = set()
    stored = 0
    for need_id, matches in plan.matches.items():
        for m in matches:
            pair = (int(need_id), int(m.offer_id))
            ranked_pairs.add(pair)
            proposal = existing.get(pair)
            if proposal is not None and proposal.status not in RERANKED:
                continue  # decided meanwhile: leave it
            if proposal is None:
                proposal = MatchProposal(need_id=pair[0], placement_id=pair[1])
            proposal.run_id = run.id
            proposal.score = float(m.score)
            proposal.parts = {k: float(v) for k, v in m.parts.items()}
            proposal.reasons = _reasons(m)
            proposal.students = plan.students.get((need_id, m.offer_id), 0)
            proposal.updated_at = now
            session.add(proposal)
            stored += 1

    stale = [
        p
        for pair, p in existing.items()
        if p.status in RERANKED and pair not in ranked_pairs
    ]
    on_agenda = set()
    if stale:
        on_agenda = set(
            session.exec(
                select(MeetingItem.proposal_id).where(
                    col(MeetingItem.proposal_id).in_([p.id for p in stale])
                )
            ).all()
        )
    for p in stale:
        if p.status == ProposalStatus.PROPOSED and p.id not in on_agenda:
            session.delete(p)
        else:
            p.students = 0
            p.updated_at = now
            session.add(p)

    session.exec(
        sa.delete(ProgrammeGapMatch).where(
            col(ProgrammeGapMatch.programme_id).in_(
                select(Programme.id).where(
                    _in_area(run.council_id, Programme.school_id)
                )
            )
        )
    )
    for gap_id, matches in plan.gap_matches.items():
        for m in matches[:GAP_TOP_K]:
            session.add(
                ProgrammeGapMatch(
                    run_id=run.id,
                    programme_id=int(m.offer_id),
                    skill_gap_id=int(gap_id),
                    score=float(m.score),
                    parts={k: float(v) for k, v in m.parts.items()},
                    reasons=_reasons(m),
                )
            )
    session.flush()
    return stored


def _set_progress(session: Session, run_id: int, done: int) -> None:
    run = session.get(MatchRun, run_id)
    if run is None:
        return
    run.progress = done
    session.add(run)
    session.commit()


def _open(source: SessionSource) -> tuple[Session, bool]:
    if isinstance(source, Session):
        return source, False
    return source(), True


def run_matching(
    source: SessionSource,
    *,
    actor: User | None = None,
    run_id: int | None = None,
    progress: Progress | None = None,
    today: date | None = None,
) -> RunSummary:
    """Run matching over all open needs and placements, and programmes ↔ gaps.

    `source` is a Session or a callable returning one (closed at the end).
    With `run_id`, the queued run of that id is run; without, the oldest
    queued run is picked up, or a new run row created (RunInProgress if one
    is running). `progress(done, total, phase)` is called after each phase of
    PHASES. Commits (see the module docstring); raises MatchRunFailed, with
    the run marked failed, when anything goes wrong.
    """
    session, owned = _open(source)
    try:
        return _run(session, actor, run_id, progress, today or date.today())
    finally:
        if owned:
            session.close()


def _run(
    session: Session,
    actor: User | None,
    run_id: int | None,
    progress: Progress | None,
    today: date,
) -> RunSummary:
    if run_id is None:
        # A run queued from the web (MATCH_IN_THREAD off) is picked up here.
        waiting = queued_run(session)
        run = waiting if waiting is not None else create_run(session, actor=actor)
        session.commit()
    else:
        found = session.get(MatchRun, run_id)
        if found is None:
            raise RunNotFound(run_id)
        run = found
    assert run.id is not None
    the_id = run.id
    total = len(PHASES)
    try:
        # The served model (moraspar.ranking), fitted with the active weights
        # on the open postings; imported here because it builds its postings
        # with this module's functions.
        from moraspar.ranking import current

        served = current(session, today=today)
        version = served.version
        run.status = RunStatus.RUNNING
        run.started_at = utcnow()
        run.progress = 0
        run.total = total
        run.error = ""
        run.ranker_version = version
        session.add(run)
        session.commit()

        done = 0

        def step(phase: str) -> None:
            nonlocal done
            done += 1
            _set_progress(session, the_id, done)
            if progress is not None:
                progress(done, total, phase)

        plan = _compute(
            session,
            ranker=served.ranker,
            today=today,
            step=step,
            council_id=run.council_id,
        )
        stored = _store(session, plan, run=run)
        summary = _summary(plan, run_id=the_id, stored=stored, version=version)
        run.status = RunStatus.DONE
        run.progress = total
        run.finished_at = utcnow()
        session.add(run)
        audit.record(
            session,
            run,
            actor=actor,
            action="match_run.done",
            proposals=summary.proposals,
            students_covered=summary.students_covered,
            uncovered_needs=summary.uncovered_needs,
            gap_matches=summary.gap_matches,
            skipped=plan.skipped[:20],
        )
        session.commit()  # the one commit that replaces the proposals
    except Exception as exc:
        session.rollback()
        reason = f"{type(exc).__name__}: {exc}"[:2000]
        log.exception("match run %s failed", the_id)
        _mark_failed(session, the_id, reason, actor)
        raise MatchRunFailed(the_id, reason) from exc
    if progress is not None:
        progress(total, total, "save")
    return summary


def _mark_failed(
    session: Session, run_id: int, reason: str, actor: User | None
) -> None:
    run = session.get(MatchRun, run_id)
    if run is None:
        return
    run.status = RunStatus.FAILED
    run.error = reason
    run.finished_at = utcnow()
    session.add(run)
    audit.record(
        session,
        run,
        actor=actor,
        action="match_run.fail",
        error=reason,
    )
    session.commit()


def _summary(plan: _Plan, *, run_id: int, stored: int, version: str) -> RunSummary:
    covered: dict[str, int] = defaultdict(int)
    for (need_id, _offer_id), n in plan.students.items():
        covered[need_id] += n
    return RunSummary(
        run_id=run_id,
        needs=len(plan.needs),
        placements=len(plan.offers),
        proposals=stored,
        students_needed=sum(p.count for p in plan.needs),
        students_covered=sum(covered.values()),
        uncovered_needs=sum(1 for p in plan.needs if covered.get(p.id, 0) == 0),
        gap_matches=sum(min(len(m), GAP_TOP_K) for m in plan.gap_matches.values()),
        ranker_version=version,
    )


def run_summary(session: Session, run: MatchRun) -> dict[str, int]:
    """Figures of a finished run, read back from its stored proposals."""
    row = session.exec(
        select(
            sa.func.count(col(MatchProposal.id)),
            sa.func.coalesce(sa.func.sum(MatchProposal.students), 0),
        ).where(MatchProposal.run_id == run.id)
    ).one()
    gap_matches = session.exec(
        select(sa.func.count(col(ProgrammeGapMatch.id))).where(
            ProgrammeGapMatch.run_id == run.id
        )
    ).one()
    return {
        "proposals": int(row[0]),
        "students": int(row[1]),
        "gap_matches": int(gap_matches),
    }
