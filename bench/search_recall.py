"""Recall@10 of the teacher's placement search on the labelled Swedish queries.

Loads the Mora demo data into an in-memory SQLite database (or the database of
MORASPAR_DATABASE_URL), runs each query of
tests/moraspar/schools/search_queries.toml through `search_placements` and
prints, per query and overall, the share of the expected placements found on
the first page of ten (out of min(10, expected)). Usage:

    python bench/search_recall.py [-v]
"""

import sys
import tomllib
from pathlib import Path

from sqlmodel import Session, SQLModel

from moraspar.demo import load_demo
from moraspar.schools.services import PlacementSearch, search_placements

QUERIES = (
    Path(__file__).resolve().parent.parent
    / "tests/moraspar/schools/search_queries.toml"
)
K = 10


def labelled_queries() -> list[tuple[str, list[str]]]:
    data = tomllib.loads(QUERIES.read_text(encoding="utf-8"))
    return [(row["q"], row["expect"]) for row in data["query"]]


def recall_at_k(
    session: Session, query: str, expect: list[str]
) -> tuple[float, list[str]]:
    page = search_placements(
        session, search=PlacementSearch(text=query), page=1, per_page=K
    )
    titles = [hit.placement.title for hit in page.items]
    found = len(set(expect) & set(titles))
    return found / min(K, len(expect)), titles


def main() -> None:
    import os

    from moraspar import create_app
    from moraspar.db import get_session

    verbose = "-v" in sys.argv
    url = os.environ.get("MORASPAR_DATABASE_URL", "sqlite://")
    app = create_app({"DATABASE_URL": url, "TESTING": True})
    with app.app_context():
        session = get_session()
        SQLModel.metadata.create_all(session.get_bind())
        load_demo(session)
        session.flush()
        scores = []
        for query, expect in labelled_queries():
            score, titles = recall_at_k(session, query, expect)
            scores.append(score)
            print(f"{score:5.2f}  {query}")
            if verbose and score < 1:
                print("       missing:", sorted(set(expect) - set(titles)))
                print("       got:", titles)
        session.rollback()
    print(f"recall@{K} over {len(scores)} queries: {sum(scores) / len(scores):.3f}")


if __name__ == "__main__":
    main()
