"""The served matching model: fitted once, stored in the database, loaded by
every web process and worker.

Fitting the text model takes seconds on Mora's postings; ranking one need
with a fitted model takes milliseconds. So the model is fitted by a job
(`refresh_model`, after postings change and every quarter of an hour), saved
as a `RankingModel` row, and each process loads the newest row once and keeps
it (`current_model`). Web processes on several machines share nothing but the
database, so the row is how they agree on the model.

A model older than the postings still ranks them: `Ranker.rank` reads any
posting; what it lacks are the character n-grams of words it never saw. So a
stale model is served until the refreshed one is stored, never refused.

Rows of another model-file version than the library reads are ignored (an
upgrade of `matching` refits instead of misreading). The last KEEP rows are
kept, so a process still serving the previous row can finish its request.

With the model each process keeps the open placements prepared for it
(`PlacementIndex`, made and checked by `moraspar.ranking.services`), so that a
need's live matches vectorise only the need. It is dropped with its model.

Plain functions with the session passed in; they flush, never commit.
"""

import hashlib
import json
import logging
import tempfile
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

import matching
from matching.modelfile import VERSION as FORMAT_VERSION
from moraspar import audit
from moraspar.council.runs import (
    active_weights,
    gap_posting,
    need_posting,
    open_needs,
    open_placements,
    placement_posting,
    programme_posting,
)
from moraspar.models import (
    Need,
    Organisation,
    Placement,
    PostingStatus,
    Programme,
    RankingModel,
    SkillGap,
)
from moraspar.reference import vocabulary

log = logging.getLogger(__name__)

KEEP = 3  # rows kept: the newest and the two before it


@dataclass(frozen=True)
class ServedModel:
    """A fitted model and the row it came from (id None: fitted in this
    process and not stored yet)."""

    id: int | None
    ranker: matching.Ranker
    fitted_at: datetime
    digest: str

    @property
    def version(self) -> str:
        """What a match run records as its ranker version."""
        return f"model:{self.id}" if self.id is not None else "model:unsaved"


@dataclass(frozen=True)
class Refresh:
    row: RankingModel
    refitted: bool


@dataclass(frozen=True)
class ModelStatus:
    id: int | None  # None: no model stored yet
    fitted_at: datetime | None
    stale: bool  # postings changed since the newest model was fitted
    n_postings: int


# -- what the model was fitted on ---------------------------------------------


def _aggregate(session: Session, table: Any, *where: Any) -> list[Any]:
    row = session.exec(
        select(
            sa.func.count(col(table.id)),
            sa.func.coalesce(sa.func.sum(col(table.id)), 0),
            sa.func.max(col(table.updated_at)),
        ).where(*where)
    ).one()
    newest = row[2]
    return [int(row[0]), int(row[1]), newest.isoformat() if newest else None]


def watermark(session: Session, *, today: date) -> str:
    """A digest of counts, id sums and newest updates of the open postings, the
    approved companies and the active weights: four cheap aggregate queries
    (plus the weights') that change whenever a posting is created, edited,
    closed or ends, or a company is approved or not."""
    live = sa.or_(col(Need.end_date).is_(None), col(Need.end_date) >= today)
    placement_live = sa.or_(
        col(Placement.end_date).is_(None), col(Placement.end_date) >= today
    )
    figures = {
        "need": _aggregate(session, Need, Need.status == PostingStatus.OPEN, live),
        "placement": _aggregate(
            session, Placement, Placement.status == PostingStatus.OPEN, placement_live
        ),
        "gap": _aggregate(session, SkillGap, SkillGap.status == PostingStatus.OPEN),
        "programme": _aggregate(session, Programme, col(Programme.active).is_(True)),
        "companies": _aggregate(
            session, Organisation, col(Organisation.approved).is_(True)
        ),
        "weights": active_weights(session)[1],
        "format": FORMAT_VERSION,
    }
    return _digest(figures)


def _digest(value: Any) -> str:
    return hashlib.sha256(
        json.dumps(value, sort_keys=True, default=str).encode()
    ).hexdigest()


def postings(session: Session, *, today: date) -> list[matching.Posting]:
    """The open postings a model is fitted on: needs, placements of approved
    companies, skill gaps and programmes (the two pairs a run ranks). A
    posting the library refuses is left out, as a run leaves it out."""
    found: list[matching.Posting] = []

    def add(make: Any, *args: Any, **kw: Any) -> None:
        try:
            found.append(make(*args, **kw))
        except matching.InvalidPosting as exc:
            log.warning("the ranking model leaves out %s", exc)

    for need in open_needs(session, today=today):
        add(need_posting, need, students=max(1, need.students))
    for placement, company in open_placements(session, today=today):
        add(placement_posting, placement, company, free=max(1, placement.places))
    for gap in session.exec(
        select(SkillGap)
        .join(Organisation, col(Organisation.id) == SkillGap.company_id)
        .where(SkillGap.status == PostingStatus.OPEN)
        .where(col(Organisation.approved).is_(True))
        .order_by(col(SkillGap.id))
    ).all():
        add(gap_posting, gap)
    for programme in session.exec(
        select(Programme)
        .where(col(Programme.active).is_(True))
        .order_by(col(Programme.id))
    ).all():
        add(programme_posting, programme)
    return found


def fingerprint(found: Iterable[matching.Posting], *, weights_version: str) -> str:
    """A digest of what fitting reads: the texts and skills of the postings
    (in content order: the fit does not depend on the order either), the
    weights and the model-file version."""
    docs = sorted(
        json.dumps([p.title, p.text, list(p.skills)], ensure_ascii=False) for p in found
    )
    return _digest({"docs": docs, "weights": weights_version, "format": FORMAT_VERSION})


# -- fitting and storing -------------------------------------------------------


def to_bytes(ranker: matching.Ranker) -> bytes:
    # The library saves to a path; a private directory keeps the file ours.
    with tempfile.TemporaryDirectory(prefix="moraspar-model-") as folder:
        path = Path(folder) / "model.npz"
        ranker.save(path)
        return path.read_bytes()


def from_bytes(content: bytes) -> matching.Ranker:
    with tempfile.TemporaryDirectory(prefix="moraspar-model-") as folder:
        path = Path(folder) / "model.npz"
        path.write_bytes(content)
        return matching.load_model(path)


def newest_row(session: Session) -> RankingModel | None:
    return session.exec(
        select(RankingModel)
        .where(RankingModel.format_version == FORMAT_VERSION)
        .order_by(col(RankingModel.id).desc())
        .limit(1)
    ).first()


@dataclass(frozen=True)
class Inputs:
    """What a fit reads, read in an order that errs on the safe side."""

    watermark: str
    weights: matching.Weights | None
    weights_version: str
    found: list[matching.Posting]

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.found, weights_version=self.weights_version)


def read_inputs(session: Session, *, today: date) -> Inputs:
    # The watermark first: a change committed while the postings are read
    # then makes the stored model look stale (and refitted), never current.
    mark = watermark(session, today=today)
    weights, weights_version = active_weights(session)
    return Inputs(mark, weights, weights_version, postings(session, today=today))


def fit_row(session: Session, inputs: Inputs) -> tuple[RankingModel, matching.Ranker]:
    """Fit a model on `inputs` and add it as a new row (flushed); older rows
    beyond KEEP are deleted."""
    started = time.perf_counter()
    ranker = matching.fit(
        inputs.found, vocabulary=vocabulary.skills(), weights=inputs.weights
    )
    seconds = time.perf_counter() - started
    return store_row(session, ranker, inputs, seconds=seconds), ranker


def store_row(
    session: Session, ranker: matching.Ranker, inputs: Inputs, *, seconds: float
) -> RankingModel:
    """Add `ranker`, fitted on `inputs` in `seconds`, as a new row (flushed)."""
    content = to_bytes(ranker)
    row = RankingModel(
        format_version=FORMAT_VERSION,
        watermark=inputs.watermark,
        fingerprint=inputs.fingerprint,
        weights_version=inputs.weights_version,
        n_postings=len(inputs.found),
        model=content,
        model_digest=hashlib.sha256(content).hexdigest(),
        fit_seconds=round(seconds, 3),
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        row,
        actor=None,
        action="ranking_model.fit",
        n_postings=row.n_postings,
        fit_seconds=row.fit_seconds,
    )
    _prune(session)
    return row


def _prune(session: Session) -> None:
    keep = select(RankingModel.id).order_by(col(RankingModel.id).desc()).limit(KEEP)
    kept = [i for i in session.exec(keep).all() if i is not None]
    session.exec(sa.delete(RankingModel).where(col(RankingModel.id).not_in(kept)))
    session.flush()


def refresh_model(
    session: Session, *, force: bool = False, today: date | None = None
) -> Refresh:
    """Fit and store a new model when the open postings changed since the
    newest one was fitted (always with `force`). A change that leaves the
    fitted texts as they were only moves the newest row's watermark."""
    day = today or date.today()
    newest = newest_row(session)
    if force or newest is None:
        row, ranker = fit_row(session, read_inputs(session, today=day))
        _remember(_served(row, ranker), _key(row))
        return Refresh(row, refitted=True)
    if newest.watermark == watermark(session, today=day):
        return Refresh(newest, refitted=False)
    inputs = read_inputs(session, today=day)
    if newest.fingerprint == inputs.fingerprint:
        newest.watermark = inputs.watermark
        session.add(newest)
        session.flush()
        return Refresh(newest, refitted=False)
    row, ranker = fit_row(session, inputs)
    _remember(_served(row, ranker), _key(row))
    return Refresh(row, refitted=True)


def model_status(session: Session, *, today: date | None = None) -> ModelStatus:
    newest = newest_row(session)
    if newest is None:
        return ModelStatus(None, None, stale=True, n_postings=0)
    mark = watermark(session, today=today or date.today())
    return ModelStatus(
        newest.id,
        newest.fitted_at,
        stale=newest.watermark != mark,
        n_postings=newest.n_postings,
    )


# -- the per-process cache -----------------------------------------------------

_lock = threading.Lock()
# Two models at most: the one served and, while a refit is taken up, the one
# before it (or the same model under its fingerprint and its row).
_HELD = 2
_cached: dict[tuple[Any, ...], ServedModel] = {}


@dataclass(frozen=True)
class PlacementIndex:
    """The open placements prepared once for one held model
    (`Ranker.index`), so that a need's live matches vectorise only the need.

    `rows` maps a placement id to its row in `index` and the posting the row
    was made from. The posting carries the free places (the ranker scores
    capacity and gives them as a reason), so a caller compares its own posting
    with this one and uses the row only when they are equal: an edited text,
    a moved position or a place taken makes the index out of date.
    """

    index: matching.OfferIndex
    rows: dict[int, tuple[int, matching.Posting]]

    def rows_for(
        self, wanted: Iterable[tuple[int, matching.Posting]]
    ) -> list[int] | None:
        """The rows of `wanted` (placement id, posting as it is now), or None
        when one of them is missing or was indexed as another posting."""
        found = []
        for placement_id, posting in wanted:
            held = self.rows.get(placement_id)
            if held is None or held[1] != posting:
                return None
            found.append(held[0])
        return found


# One index per held model, looked up by the model's identity and dropped with
# it. An index is read-only once made: threads share it, and a newer one
# replaces it whole under the lock.
_indexes: dict[int, PlacementIndex] = {}


def _key(row: RankingModel) -> tuple[Any, ...]:
    # The fingerprint as well as the id: two databases (tests, a restored
    # backup) can hold different models under one id. Not the model's digest:
    # SQLite stores that column after the model's megabytes and walks them to
    # read it, which cost a live match list 3-7 ms on every call.
    return ("row", row.id, row.fingerprint)


def _served(row: RankingModel, ranker: matching.Ranker) -> ServedModel:
    return ServedModel(row.id, ranker, row.fitted_at, row.model_digest)


def _remember(served: ServedModel, *keys: tuple[Any, ...]) -> None:
    with _lock:
        for key in keys:
            _cached.pop(key, None)
            _cached[key] = served
        while len({id(s) for s in _cached.values()}) > _HELD:
            del _cached[next(iter(_cached))]
        held = {id(s.ranker) for s in _cached.values()}
        for gone in [k for k in _indexes if k not in held]:
            del _indexes[gone]


def _recall(key: tuple[Any, ...]) -> ServedModel | None:
    with _lock:
        return _cached.get(key)


def clear_cache() -> None:
    """Forget the model this process holds (as a new process would)."""
    with _lock:
        _cached.clear()
        _indexes.clear()


def recall_index(ranker: matching.Ranker) -> PlacementIndex | None:
    """The placements' index made for `ranker`, if this process holds one."""
    with _lock:
        held = _indexes.get(id(ranker))
    # The identity check guards against an id reused by a newer object.
    return held if held is not None and held.index.ranker is ranker else None


def remember_index(held: PlacementIndex) -> None:
    """Keep `held` for its model while this process holds the model (an index
    for a model no longer held is not kept)."""
    ranker = held.index.ranker
    with _lock:
        if any(s.ranker is ranker for s in _cached.values()):
            _indexes[id(ranker)] = held


def current(session: Session, *, today: date | None = None) -> ServedModel:
    """The newest stored model, loaded once per process and row.

    Each call asks the database for the newest row's id and fingerprint (one
    small query) and loads the model only when that row is not the one held. With
    no row yet (a fresh database) a model is fitted here and added to the
    session: it is stored when the caller commits, and held by this process
    meanwhile, so that a request that does not commit costs the next one a
    save, not a refit.
    """
    # Twice at most: another process may prune the row between the two reads.
    for _attempt in range(2):
        head = session.exec(
            select(RankingModel.id, RankingModel.fingerprint)
            .where(RankingModel.format_version == FORMAT_VERSION)
            .order_by(col(RankingModel.id).desc())
            .limit(1)
        ).first()
        if head is None:
            break
        key: tuple[Any, ...] = ("row", head[0], head[1])
        held = _recall(key)
        if held is not None:
            return held
        row = session.get(RankingModel, head[0])
        if row is None:
            continue
        try:
            served = _served(row, from_bytes(row.model))
        except matching.InvalidModelFile:
            log.exception("ranking model %s cannot be loaded; fitting anew", row.id)
            break
        _remember(served, key)
        return served
    inputs = read_inputs(session, today=today or date.today())
    key = ("fit", inputs.fingerprint)
    held = _recall(key)
    if held is not None:
        # Fitted by an earlier call whose transaction was not committed:
        # store it again rather than refit.
        row = store_row(session, held.ranker, inputs, seconds=0.0)
        served = _served(row, held.ranker)
        _remember(served, key, _key(row))
        return served
    row, ranker = fit_row(session, inputs)
    served = _served(row, ranker)
    _remember(served, key, _key(row))
    return served


def current_model(session: Session, *, today: date | None = None) -> matching.Ranker:
    """The fitted Ranker to rank with now (see `current`)."""
    return current(session, today=today).ranker
