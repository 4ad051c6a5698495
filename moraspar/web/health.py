"""Probes and metrics for the operator: /healthz, /readyz, /metrics.

/healthz says the process answers (a load balancer's liveness check; it
touches nothing else, so a database outage does not restart every web
process). /readyz says it can serve: the database and the job queue answer, and the
matching model loads (the newest stored one, which this process then holds;
with none stored yet, one is fitted and stored here, as the first ranking
would). `model_stale` says whether postings changed since it was fitted: a
stale model still ranks, so it does not make the process unready.
/metrics is for Prometheus and needs `Authorization: Bearer METRICS_TOKEN`;
without a token configured it does not exist.
"""

import hmac

from flask import Blueprint, Flask, Response, abort, current_app, jsonify, request
from sqlalchemy import text

from moraspar import ranking
from moraspar.db import get_session
from moraspar.jobs.queue import queue
from moraspar.web import metrics, requestlog

bp = Blueprint("health", __name__)


@bp.route("/healthz")
def healthz() -> tuple[Response, int]:
    return jsonify(status="ok"), 200


@bp.route("/readyz")
def readyz() -> tuple[Response, int]:
    checks = {"database": "ok", "queue": "ok"}
    try:
        get_session().connection().execute(text("SELECT 1"))
    except Exception:
        current_app.logger.exception("readiness: the database does not answer")
        checks["database"] = "unavailable"
    try:
        queue(current_app).pending_count()
    except Exception:
        current_app.logger.exception("readiness: the job queue does not answer")
        checks["queue"] = "unavailable"
    model: dict[str, object] = {"model": "unavailable"}
    if checks["database"] == "ok":
        model = _model_check()
    ready = all(value == "ok" for value in checks.values()) and model["model"] == "ok"
    return (
        jsonify(status="ok" if ready else "error", **checks, **model),
        200 if ready else 503,
    )


def _model_check() -> dict[str, object]:
    session = get_session()
    try:
        served = ranking.current(session)
        session.commit()  # a model fitted here is stored for every process
        status = ranking.model_status(session)
    except Exception:
        session.rollback()
        current_app.logger.exception("readiness: the matching model does not load")
        return {"model": "unavailable"}
    return {"model": "ok", "model_id": served.id, "model_stale": status.stale}


@bp.route("/metrics")
def metrics_view() -> Response:
    token = str(current_app.config["METRICS_TOKEN"])
    if not token:
        abort(404)
    given = request.headers.get("Authorization", "")
    if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        return Response(
            "authorization required\n",
            status=401,
            headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
            mimetype="text/plain",
        )
    body, content_type = metrics.render(get_session(), queue(current_app))
    return Response(body, content_type=content_type)


def register_operations(app: Flask) -> None:
    """What the operator sees: the request log, metrics and the probes."""
    requestlog.init_app(app)
    metrics.init_app(app)
    app.register_blueprint(bp)
