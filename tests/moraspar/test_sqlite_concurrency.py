"""Several processes post to one SQLite file at once: nobody sees "database is
locked" and nothing is lost (the app takes SQLite's write lock up front)."""

import multiprocessing
import re
from pathlib import Path

import pytest
from sqlmodel import Session, SQLModel, func, select

from moraspar.auth.services import hash_password, new_session_token
from moraspar.db import make_engine
from moraspar.models import Organisation, OrgKind, Placement, Role, User

PROCESSES = 4
POSTS_EACH = 5
PASSWORD = "concurrent writers ok"
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def _post_placements(
    url: str, email: str, results: "multiprocessing.Queue[list[int]]"
) -> None:
    from moraspar import create_app

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "concurrency-secret"})
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = CSRF.search(page).group(1)  # type: ignore[union-attr]
    client.post(
        "/login", data={"csrf_token": token, "email": email, "password": PASSWORD}
    )
    statuses = []
    for n in range(POSTS_EACH):
        form = client.get("/company/placements/new").get_data(as_text=True)
        token = CSRF.search(form).group(1)  # type: ignore[union-attr]
        response = client.post(
            "/company/placements/new",
            data={
                "csrf_token": token,
                "kind": "study_visit",
                "title": f"Studiebesök {email} {n}",
                "description": "Rundvandring.",
                "skills": "säkerhet",
                "places": "2",
                "start_date": "2027-03-01",
                "end_date": "2027-03-01",
                "locality": "Mora",
                "supervisor_name": "Kim",
                "supervisor_contact": "kim@foretag.example",
            },
        )
        statuses.append(response.status_code)
    results.put(statuses)


@pytest.mark.slow
def test_processes_posting_at_once_lose_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    engine = make_engine(url)
    SQLModel.metadata.create_all(engine)
    emails = []
    with Session(engine) as session:
        company = Organisation(
            kind=OrgKind.COMPANY,
            name="Samtidiga AB",
            locality="Mora",
            approved=True,
            sni_code="16",
            lat=61.0,
            lon=14.5,
        )
        session.add(company)
        session.flush()
        digest = hash_password(PASSWORD)
        for i in range(PROCESSES):
            email = f"writer{i}@samtidiga.example"
            session.add(
                User(
                    email=email,
                    display_name=f"Writer {i}",
                    role=Role.COMPANY,
                    organisation_id=company.id,
                    password_hash=digest,
                    session_token=new_session_token(),
                )
            )
            emails.append(email)
        session.commit()

    context = multiprocessing.get_context("spawn")
    results: multiprocessing.Queue[list[int]] = context.Queue()
    workers = [
        context.Process(target=_post_placements, args=(url, email, results))
        for email in emails
    ]
    for worker in workers:
        worker.start()
    statuses = [results.get(timeout=300) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)

    assert all(code == 302 for codes in statuses for code in codes), statuses
    with Session(engine) as session:
        count = session.exec(select(func.count()).select_from(Placement)).one()
    assert count == PROCESSES * POSTS_EACH
    engine.dispose()
