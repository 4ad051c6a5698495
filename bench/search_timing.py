"""Time the teacher's placement search on the scaled load data (2,000 placements).

Builds the data with bench/load/scale_data.py's `scale` into a throwaway SQLite
file (or uses MORASPAR_DATABASE_URL when set), then runs each query through
`search_placements` (first page of 20) and reports the median and 95th
percentile wall time per query, in milliseconds. Usage:

    python bench/search_timing.py [repeats]
"""

import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "load"))

from scale_data import scale

from moraspar import create_app
from moraspar.db import get_session
from moraspar.schools.services import PlacementSearch, search_placements

QUERIES = [
    "svets",
    "kock",
    "frisör",
    "vårdbiträde",
    "vard",
    "snickare",
    "elektriker mora",
    "lager truck",
    "hemtjänst",
    "fordon",
]


def main() -> None:
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    with tempfile.TemporaryDirectory() as tmp:
        url = os.environ.get("MORASPAR_DATABASE_URL") or f"sqlite:///{tmp}/load.db"
        app = create_app({"DATABASE_URL": url, "TESTING": True})
        with app.app_context():
            from sqlmodel import SQLModel

            session = get_session()
            SQLModel.metadata.create_all(session.get_bind())
            scale(session, random.Random(2026))
            session.commit()
            all_ms: list[float] = []
            for query in QUERIES:
                criteria = PlacementSearch(text=query)
                times = []
                for _ in range(repeats):
                    started = time.perf_counter()
                    page = search_placements(
                        session, search=criteria, page=1, per_page=20
                    )
                    times.append((time.perf_counter() - started) * 1000)
                    session.expire_all()
                times.sort()
                all_ms += times
                p95 = times[int(0.95 * (len(times) - 1))]
                print(
                    f"{query:20} hits {page.total:5}  median "
                    f"{statistics.median(times):6.1f} ms  p95 {p95:6.1f} ms"
                )
            all_ms.sort()
            print(
                f"{'all':20}            median {statistics.median(all_ms):6.1f} ms"
                f"  p95 {all_ms[int(0.95 * (len(all_ms) - 1))]:6.1f} ms"
            )


if __name__ == "__main__":
    main()
