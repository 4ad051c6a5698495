"""Logs: one line per request with its id, JSON lines when configured, and
no tokens or personal data.

Each request gets an id (the proxy's X-Request-ID when it is a plain token,
else a new one), sent back in the response header and written on every log
line of that request. The request line names the method, the endpoint, the
path with tokens masked, the status and the time taken: no query string, no
address, no user, since a query can hold a search for a person's name.

The development server's and gunicorn's access logs write the raw request
line; MaskTokens rewrites password-reset and invitation links and token
parameters in them before any handler sees them.
"""

import json
import logging
import re
import sys
import time
import uuid
from typing import Any

from flask import Flask, Response, g, has_request_context, request

REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
_LINK_TOKEN = re.compile(r"(/(?:reset|invite)/)[^/?#\s\"']+")
_QUERY_TOKEN = re.compile(
    r"([?&](?:token|code|key|secret|password|reset|invite)=)[^&#\s\"']*", re.I
)
ACCESS_LOGGERS = ("werkzeug", "gunicorn.access")

log = logging.getLogger("moraspar.request")


def mask(text: str) -> str:
    """The text with reset/invite tokens and token parameters masked."""
    return _QUERY_TOKEN.sub(r"\1[masked]", _LINK_TOKEN.sub(r"\1[masked]", text))


class MaskTokens(logging.Filter):
    """Masks tokens in a log record's rendered message (access logs)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": mask(record.getMessage()),
        }
        request_id = getattr(record, "request_id", None)
        if request_id is None and has_request_context():
            request_id = g.get("request_id")
        if request_id:
            entry["request_id"] = request_id
        for key in ("method", "endpoint", "path", "status", "duration_ms"):
            if hasattr(record, key):
                entry[key] = getattr(record, key)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def init_app(app: Flask) -> None:
    for name in ACCESS_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, MaskTokens) for f in logger.filters):
            logger.addFilter(MaskTokens())
    if app.config["LOG_FORMAT"] == "json":
        use_json_logs()
    elif not log.handlers and not logging.getLogger().handlers:
        logging.basicConfig(
            level=logging.INFO, format="%(levelname)s %(name)s %(message)s"
        )
    log.setLevel(logging.INFO)
    app.before_request(_begin)
    app.after_request(_end)


def use_json_logs() -> None:
    """JSON lines on stderr for every logger of the process (set once)."""
    root = logging.getLogger()
    if any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root.handlers = [handler]
    root.setLevel(logging.INFO)


def _begin() -> None:
    given = request.headers.get("X-Request-ID", "")
    g.request_id = given if REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
    g.request_began = time.perf_counter()


def _end(response: Response) -> Response:
    request_id = g.get("request_id")
    if request_id is None:
        return response
    response.headers["X-Request-ID"] = request_id
    began = g.get("request_began", time.perf_counter())
    duration = round((time.perf_counter() - began) * 1000, 1)
    path = mask(request.path)
    log.info(
        "%s %s %s %.1f ms",
        request.method,
        path,
        response.status_code,
        duration,
        extra={
            "request_id": request_id,
            "method": request.method,
            "endpoint": request.endpoint or "",
            "path": path,
            "status": response.status_code,
            "duration_ms": duration,
        },
    )
    return response
