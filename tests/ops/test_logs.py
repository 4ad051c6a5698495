"""Logs: one line per request with its id, JSON when configured, and no
reset or invitation tokens in any access log."""

import io
import json
import logging
import threading
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from werkzeug.serving import make_server

from moraspar.web.requestlog import JsonFormatter, MaskTokens, mask

TOKEN = "eyJ1c2VyIjo0Mn0.Zx1c2A.q8s7d6f5g4h3j2k1"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (f"GET /reset/{TOKEN} HTTP/1.1", "GET /reset/[masked] HTTP/1.1"),
        (
            f"POST /invite/{TOKEN}?next=/x HTTP/1.1",
            "POST /invite/[masked]?next=/x HTTP/1.1",
        ),
        (f"GET /confirm?token={TOKEN}&a=1", "GET /confirm?token=[masked]&a=1"),
        ("GET /school/needs?page=2", "GET /school/needs?page=2"),
    ],
)
def test_mask(line: str, expected: str) -> None:
    assert mask(line) == expected


@pytest.fixture
def live_server(app: Any) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()


def test_the_development_server_log_holds_no_token(
    live_server: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="werkzeug")
    with urllib.request.urlopen(f"{live_server}/reset/{TOKEN}") as response:  # noqa: S310
        assert response.status == 200

    access = [r.getMessage() for r in caplog.records if r.name == "werkzeug"]
    assert any("/reset/[masked]" in line for line in access)
    assert TOKEN not in caplog.text


def test_the_gunicorn_access_log_holds_no_token(app: Any) -> None:
    from gunicorn.config import Config
    from gunicorn.glogging import Logger

    config = Config()
    config.set("accesslog", "-")
    logger = Logger(config)
    written = io.StringIO()
    handler = logging.StreamHandler(written)
    logger.access_log.addHandler(handler)

    class Answer:
        status = "200 OK"
        response_length = 10
        sent = 10
        headers: tuple[()] = ()

    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": f"/invite/{TOKEN}?token={TOKEN}",
        "PATH_INFO": f"/invite/{TOKEN}",
        "QUERY_STRING": f"token={TOKEN}",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
    }

    class Request:
        headers: tuple[()] = ()

    logger.access(Answer(), Request(), environ, timedelta(milliseconds=5))  # type: ignore[arg-type]

    line = written.getvalue()
    assert "/invite/[masked]" in line and "token=[masked]" in line
    assert TOKEN not in line
    assert any(isinstance(f, MaskTokens) for f in logger.access_log.filters)


def test_one_json_line_per_request_with_its_id(
    client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="moraspar.request")

    response = client.get(f"/invite/{TOKEN}", headers={"X-Request-ID": "req-42"})

    assert response.headers["X-Request-ID"] == "req-42"
    lines = [r for r in caplog.records if r.name == "moraspar.request"]
    assert len(lines) == 1
    entry = json.loads(JsonFormatter().format(lines[0]))
    assert entry["request_id"] == "req-42"
    assert entry["path"] == "/invite/[masked]"
    assert entry["endpoint"] == "auth.accept_invite"
    assert entry["status"] == response.status_code
    assert TOKEN not in json.dumps(entry)


def test_a_request_without_an_id_gets_one_and_a_bad_one_is_replaced(
    client: Any,
) -> None:
    first = client.get("/healthz").headers["X-Request-ID"]
    bad = client.get("/healthz", headers={"X-Request-ID": "a b;forged"})

    assert len(first) == 32
    assert bad.headers["X-Request-ID"] != "a b;forged"


def test_json_logs_when_configured(engine: Any, tmp_path: Any) -> None:
    from moraspar import create_app

    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        create_app(
            {
                "TESTING": True,
                "SECRET_KEY": "x" * 40,
                "DATABASE_URL": str(engine.url),
                "DATABASE_ENGINE": engine,
                "OUTBOX_DIR": str(tmp_path),
                "LOG_FORMAT": "json",
            }
        )
        handler = root.handlers[0]
        record = logging.LogRecord(
            "moraspar",
            logging.WARNING,
            __file__,
            1,
            "went to /reset/%s",
            (TOKEN,),
            None,
        )
        entry = json.loads(handler.format(record))
    finally:
        root.handlers, _ = saved[0], root.setLevel(saved[1])
    assert entry["level"] == "WARNING" and entry["message"] == "went to /reset/[masked]"
