"""The served model: live matches of one need, and the council's match run.

    python bench/served.py [--needs 20] [--runs 3] [--database-url URL]

Two databases: the Mora demo data, and the same scaled up to 500 needs and
2,000 placements (bench/load/scale_data.py). SQLite files in a temporary
folder by default; with --database-url (PostgreSQL, say) each is built in turn
in that database, whose tables are dropped and made again first (never point
it at a database whose data matters). On each it times, in one process:

- fitting and storing the model (`refresh_model(force=True)`), its size,
  and loading it back from its row (a process that does not hold it yet);
- `live_matches` for one need, the first `--needs` open needs: cold (each
  call after the process forgot the model, so it loads the stored row
  first) and warm (the model held, as on every request after the first);
- in a fresh process, a full collection by Python's cyclic collector after
  serving live matches, with the app's objects frozen once it was made (as
  a web worker does: deploy/gunicorn.conf.py) and with nothing frozen;
- the council's match run over every open need (`run_matching`, proposals
  written, `--runs` times): with the stored model held, and refitting on
  every run as before (the model fitted inside the run on the same open
  postings; the rank, allocate and save phases are the same).

Times are wall seconds of this process; the median, with min-max. Prints
markdown tables.
"""

import argparse
import gc
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE / "load"))

from sqlmodel import Session, SQLModel, select  # noqa: E402

import matching  # noqa: E402
from moraspar import create_app, ranking  # noqa: E402
from moraspar.council import runs  # noqa: E402
from moraspar.db import get_session  # noqa: E402
from moraspar.demo import load_demo  # noqa: E402
from moraspar.models import Need, RankingModel  # noqa: E402
from moraspar.ranking import served as served_module  # noqa: E402


def _times(fn: Callable[[], Any], n: int) -> list[float]:
    out = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def _fmt(times: list[float], unit: float = 1.0) -> str:
    scaled = [t * unit for t in times]
    return f"{statistics.median(scaled):.3g} ({min(scaled):.3g}-{max(scaled):.3g})"


def _build(path: Path, scaled: bool, url: str | None = None) -> None:
    app = create_app(_config(path, url))
    with app.app_context():
        session = get_session()
        if url is not None:
            SQLModel.metadata.drop_all(session.get_bind())
        SQLModel.metadata.create_all(session.get_bind())
        if scaled:
            from scale_data import scale

            scale(session, random.Random(2026))
        else:
            load_demo(session)
        session.commit()


def _config(path: Path, url: str | None = None) -> dict[str, Any]:
    return {
        "TESTING": True,  # a queue in memory: no refresh job runs meanwhile
        "SECRET_KEY": "bench-secret-key",
        "DATABASE_URL": url or f"sqlite:///{path}",
        "OUTBOX_DIR": str(path.parent / "outbox"),
    }


def measure(
    path: Path, label: str, n_needs: int, n_runs: int, url: str | None = None
) -> list[list[str]]:
    app = create_app(_config(path, url))
    rows: list[list[str]] = []
    with app.app_context():
        session: Session = get_session()
        ranking.clear_cache()
        fit = _times(lambda: ranking.refresh_model(session, force=True), 1)
        session.commit()
        row = session.exec(
            select(RankingModel).order_by(RankingModel.id.desc())
        ).first()
        assert row is not None
        rows.append(
            [
                label,
                "fit + store the model",
                _fmt(fit),
                f"{row.n_postings} postings, {len(row.model) / 1e6:.1f} MB",
            ]
        )

        def load() -> None:
            ranking.clear_cache()
            ranking.current(session)

        rows.append([label, "load the stored model", _fmt(_times(load, 3)), ""])

        needs = session.exec(select(Need).order_by(Need.id).limit(n_needs)).all()
        today = date.today()
        found: list[int] = []
        cold, warm = [], []
        for need in needs:
            ranking.clear_cache()
            start = time.perf_counter()
            found.append(len(ranking.live_matches(session, need=need, today=today)))
            cold.append(time.perf_counter() - start)
            warm += _times(
                lambda need=need: ranking.live_matches(session, need=need, today=today),
                3,
            )
        candidates = [
            len(served_module_candidates(session, need, today)) for need in needs
        ]
        note = (
            f"{len(needs)} needs, candidates per need median "
            f"{statistics.median(candidates):.0f} (max {max(candidates)})"
        )
        rows.append([label, "live_matches, cold (loads the model)", _fmt(cold), note])
        rows.append([label, "live_matches, warm", _fmt(warm, 1000) + " ms", note])

        phases: list[tuple[str, float]] = []

        def run() -> runs.RunSummary:
            start = time.perf_counter()
            return runs.run_matching(
                session,
                today=today,
                progress=lambda _d, _t, phase: phases.append(
                    (phase, time.perf_counter() - start)
                ),
            )

        ranking.current(session)  # held, as in a worker that ran before
        # A first run inserts every proposal, later ones update them: time
        # re-runs only, for both.
        summary = run()
        phases.clear()
        stored = _times(run, n_runs)
        stored_rank = _rank_phase(phases)
        phases.clear()
        real_current = served_module.current

        def refitting(session: Session, *, today: date | None = None) -> Any:
            ranker = matching.fit(
                served_module.postings(session, today=today or date.today()),
                vocabulary=served_module.vocabulary.skills(),
                weights=runs.active_weights(session)[0],
            )
            return served_module.ServedModel(None, ranker, row.fitted_at, "")

        ranking.current = refitting  # type: ignore[assignment]
        try:
            refit = _times(run, n_runs)
        finally:
            ranking.current = real_current  # type: ignore[assignment]
        refit_rank = _rank_phase(phases)
        note = (
            f"{summary.needs} needs x {summary.placements} placements, "
            f"{summary.proposals} proposals"
        )
        rows.append([label, "match run, stored model", _fmt(stored), note])
        rows.append([label, "match run, refitting each run", _fmt(refit), note])
        rows.append(
            [
                label,
                "match run up to the end of ranking, stored model",
                _fmt(stored_rank),
                "model look-up, load and rank phases",
            ]
        )
        rows.append(
            [
                label,
                "match run up to the end of ranking, refitting",
                _fmt(refit_rank),
                "fit, load and rank phases",
            ]
        )
    return rows


def _full_collections(path: Path, label: str, url: str | None) -> list[list[str]]:
    """Full collections in a fresh process that froze its objects once the app
    was made, as a web worker does (deploy/gunicorn.conf.py,
    `post_worker_init`), then served live matches (so the model and the index
    were made after the freeze); then the same with nothing frozen."""
    database = ["--database-url", url] if url else []
    child = subprocess.run(
        [sys.executable, __file__, "--collections", str(path), *database],
        capture_output=True,
        text=True,
        check=True,
    )
    got = json.loads(child.stdout.strip().splitlines()[-1])
    return [
        [
            label,
            "a full collection, nothing frozen",
            _fmt(got["plain"], 1000) + " ms",
            f"{got['tracked']:,} objects",
        ],
        [
            label,
            "a full collection, the app's objects frozen at start",
            _fmt(got["frozen"], 1000) + " ms",
            f"{got['after']:,} objects made after the freeze",
        ],
    ]


def collections(path: Path, url: str | None) -> None:
    """The child of `_full_collections`: prints one JSON line."""
    app = create_app(_config(path, url))
    gc.collect()
    gc.freeze()
    with app.app_context():
        session: Session = get_session()
        today = date.today()
        for need in session.exec(select(Need).order_by(Need.id).limit(20)).all():
            ranking.live_matches(session, need=need, today=today)
        after = len(gc.get_objects())
        frozen = _times(gc.collect, 3)
        gc.unfreeze()
        tracked = len(gc.get_objects())
        plain = _times(gc.collect, 3)
    got = {"plain": plain, "frozen": frozen, "after": after, "tracked": tracked}
    print(json.dumps(got))


def _rank_phase(phases: list[tuple[str, float]]) -> list[float]:
    """Seconds from the start of each run to the end of its rank phase."""
    return [t for phase, t in phases if phase == "rank"]


def served_module_candidates(session: Session, need: Need, today: date) -> list[Any]:
    from moraspar.ranking.services import candidates

    return candidates(session, need=need, today=today)


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.machine()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--needs", type=int, default=20)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--database-url",
        help="build and measure in this database (its tables are dropped first)",
    )
    parser.add_argument("--collections", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.collections:
        collections(args.collections, args.database_url)
        return
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
        cwd=HERE,
    ).stdout.strip()
    print(
        f"{date.today()}, commit {commit}, {_cpu()}"
        f", {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"load average {os.getloadavg()[0]:.1f}",
        file=sys.stderr,
    )
    rows: list[list[str]] = []
    with tempfile.TemporaryDirectory(prefix="moraspar-served-") as folder:
        for label, scaled in (("demo", False), ("scaled 500 x 2,000", True)):
            path = Path(folder) / f"{'scaled' if scaled else 'demo'}.db"
            _build(path, scaled, args.database_url)
            rows += measure(path, label, args.needs, args.runs, args.database_url)
            rows += _full_collections(path, label, args.database_url)
    print("| data | what | wall s, median (min-max) | notes |")
    print("| --- | --- | --- | --- |")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print(f"load average after: {os.getloadavg()[0]:.1f}", file=sys.stderr)


if __name__ == "__main__":
    main()
