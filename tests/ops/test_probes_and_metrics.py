"""/healthz, /readyz and /metrics."""

from typing import Any

import pytest
from sqlmodel import Session

from moraspar.jobs.queue import queue
from moraspar.models import MatchRun, OutboxMessage, RunStatus


def test_healthz_says_alive(client: Any) -> None:
    response = client.get("/healthz")

    assert (response.status_code, response.get_json()) == (200, {"status": "ok"})


def test_readyz_checks_the_database_and_the_queue(client: Any) -> None:
    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok", "queue": "ok"}


def test_readyz_fails_when_the_queue_is_down(
    app: Any, client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def down() -> int:
        raise ConnectionError("Connection refused")

    monkeypatch.setattr(queue(app), "pending_count", down)

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.get_json() == {
        "status": "error",
        "database": "ok",
        "queue": "unavailable",
    }


def test_readyz_fails_when_the_database_is_down(app: Any, client: Any) -> None:
    from moraspar.db import make_engine

    app.extensions["moraspar.engine"] = make_engine(
        "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1"
    )

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.get_json()["database"] == "unavailable"


def test_metrics_need_the_token(app: Any, client: Any) -> None:
    assert client.get("/metrics").status_code == 404  # no token configured

    app.config["METRICS_TOKEN"] = "s3cret-metrics-token"
    assert client.get("/metrics").status_code == 401
    wrong = {"Authorization": "Bearer nope"}
    assert client.get("/metrics", headers=wrong).status_code == 401


def test_metrics_count_requests_and_report_the_jobs(
    app: Any, client: Any, db: Session
) -> None:
    app.config["METRICS_TOKEN"] = "s3cret-metrics-token"
    db.add(OutboxMessage(to_address="a@example.se", subject="s", body_text="b"))
    db.add(MatchRun(status=RunStatus.RUNNING))
    db.commit()
    client.get("/login")
    client.get("/login")

    response = client.get(
        "/metrics", headers={"Authorization": "Bearer s3cret-metrics-token"}
    )

    text = response.get_data(as_text=True)
    assert response.status_code == 200
    assert (
        'moraspar_requests_total{endpoint="auth.login",method="GET",status="200"}'
        in text
    )
    assert (
        'moraspar_request_duration_seconds_count{endpoint="auth.login",method="GET"}'
        in text
    )
    assert "moraspar_emails_waiting 1.0" in text
    assert "moraspar_jobs_running 1.0" in text
    assert "moraspar_jobs_queued 0.0" in text
    assert "moraspar_jobs_failed_24h 0.0" in text
    assert "/login" not in text  # endpoints, never paths
