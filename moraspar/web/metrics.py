"""Prometheus metrics: requests per endpoint from each process, and the jobs'
state read from the database and the queue when Prometheus asks.

Under gunicorn each worker process counts its own requests; with
PROMETHEUS_MULTIPROC_DIR set (deploy/gunicorn.conf.py does) prometheus-client
keeps them in files there and /metrics adds them up over the processes. The
job figures come from the shared database and queue, so any web process
gives the same answer, whichever worker ran the jobs.
"""

import os
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from flask import Flask, Response, g, request
from huey import Huey
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlmodel import Session, col, select

from moraspar.jobs import records
from moraspar.models import MatchRun, RunStatus, utcnow
from moraspar.notifications import mail

REQUESTS = Counter(
    "moraspar_requests",
    "HTTP requests answered, per endpoint.",
    ["endpoint", "method", "status"],
)
LATENCY = Histogram(
    "moraspar_request_duration_seconds",
    "Time to answer an HTTP request, per endpoint.",
    ["endpoint", "method"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1.0, 2.5, 5.0, 10.0),
)


def init_app(app: Flask) -> None:
    app.before_request(_start_timer)
    app.after_request(_count)


def _start_timer() -> None:
    g.metrics_started = time.perf_counter()


def _count(response: Response) -> Response:
    started = g.get("metrics_started")
    if started is not None:
        # The endpoint name, never the path: paths carry ids and tokens.
        endpoint = request.endpoint or "unknown"
        LATENCY.labels(endpoint, request.method).observe(time.perf_counter() - started)
        REQUESTS.labels(endpoint, request.method, str(response.status_code)).inc()
    return response


class JobsCollector(Collector):
    """The jobs' state at the moment of the scrape."""

    def __init__(self, session: Session, huey: Huey) -> None:
        self.session, self.huey = session, huey

    def collect(self) -> Iterator[Any]:
        session, now = self.session, utcnow()
        try:
            queued = float(self.huey.pending_count())
        except Exception:
            queued = float("nan")  # the queue is down: /readyz says so
        yield _gauge("moraspar_jobs_queued", "Jobs waiting in the queue.", queued)
        running_runs = session.exec(
            select(sa.func.count())
            .select_from(MatchRun)
            .where(MatchRun.status == RunStatus.RUNNING)
        ).one()
        yield _gauge(
            "moraspar_jobs_running",
            "Scheduled jobs and match runs running now.",
            records.running_count(session) + int(running_runs),
        )
        yield _gauge(
            "moraspar_jobs_failed_24h",
            "Jobs that failed in the last 24 hours.",
            records.failed_count(session, since=now - timedelta(hours=24)),
        )
        yield _gauge(
            "moraspar_emails_waiting",
            "Emails not yet delivered that will be tried.",
            mail.waiting_count(session),
        )
        yield _gauge(
            "moraspar_emails_undelivered",
            "Emails refused, given up or maybe delivered (admin's jobs page).",
            len(mail.undelivered(session)),
        )
        last = session.exec(
            select(MatchRun)
            .where(MatchRun.status == RunStatus.DONE)
            .where(col(MatchRun.started_at).is_not(None))
            .order_by(col(MatchRun.id).desc())
            .limit(1)
        ).first()
        if last is not None and last.started_at and last.finished_at:
            seconds = (
                records.aware(last.finished_at) - records.aware(last.started_at)  # type: ignore[operator]
            ).total_seconds()
            yield _gauge(
                "moraspar_match_run_duration_seconds",
                "Duration of the last finished match run.",
                seconds,
            )


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


def render(session: Session, huey: Huey) -> tuple[bytes, str]:
    """The metrics text for one scrape."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        requests_registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(requests_registry)
    else:
        requests_registry = REGISTRY
    jobs_registry = CollectorRegistry()
    jobs_registry.register(JobsCollector(session, huey))
    body = generate_latest(requests_registry) + generate_latest(jobs_registry)
    return body, CONTENT_TYPE_LATEST
