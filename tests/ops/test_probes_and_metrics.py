"""/healthz, /readyz and /metrics."""

from typing import Any

import pytest
from sqlmodel import Session

from moraspar.jobs.queue import queue
from moraspar.models import MatchRun, OutboxMessage, RunStatus


def test_healthz_says_alive(client: Any) -> None:
    response = client.get("/healthz")

    assert (response.status_code, response.get_json()) == (200, {"status": "ok"})


def test_readyz_checks_the_database_the_queue_and_the_model(client: Any) -> None:
    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.get_json() == {
        "status": "ok",
        "database": "ok",
        "queue": "ok",
        "model": "ok",
        "model_id": 1,  # none was stored: fitted and stored by the probe
        "model_stale": False,
    }


def test_readyz_says_when_the_model_is_stale(
    client: Any, db: Session, make_company: Any, make_placement: Any
) -> None:
    from moraspar.ranking import clear_cache, refresh_model

    make_placement(make_company())
    model_id = refresh_model(db).row.id
    db.commit()
    clear_cache()  # the web process has not loaded it yet
    assert client.get("/readyz").get_json()["model_stale"] is False

    make_placement(make_company(), title="Snickeri")
    body = client.get("/readyz").get_json()

    assert body["status"] == "ok"  # a stale model still ranks
    assert (body["model_id"], body["model_stale"]) == (model_id, True)


def test_readyz_fails_when_the_model_cannot_be_loaded(
    client: Any, db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    import matching
    from moraspar.ranking import clear_cache, refresh_model

    refresh_model(db)
    db.commit()
    clear_cache()

    def damaged(*_args: Any) -> Any:
        raise matching.InvalidModelFile("damaged model file")

    def refuse(*_args: Any, **_kw: Any) -> Any:
        raise RuntimeError("no postings to fit on")

    monkeypatch.setattr(matching, "load_model", damaged)
    monkeypatch.setattr(matching, "fit", refuse)
    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.get_json()["model"] == "unavailable"


def test_readyz_fails_when_the_queue_is_down(
    app: Any, client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def down() -> int:
        raise ConnectionError("Connection refused")

    monkeypatch.setattr(queue(app), "pending_count", down)

    response = client.get("/readyz")

    assert response.status_code == 503
    body = response.get_json()
    assert (body["status"], body["database"], body["queue"]) == (
        "error",
        "ok",
        "unavailable",
    )


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
