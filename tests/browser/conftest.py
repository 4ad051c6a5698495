"""A live Moraspår with the demo data, and headless Chromium driven by Playwright.

Debian's chromium is used through executable_path (browser downloads do not
work here). Without chromium, playwright or axe-core the tests skip with the
reason, unless MORASPAR_REQUIRE_BROWSER=1 (CI), where they fail instead.
"""

import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyotp
import pytest
from sqlmodel import Session, SQLModel, select
from werkzeug.serving import make_server

from moraspar import create_app
from moraspar.auth.services import new_session_token
from moraspar.council.runs import run_matching
from moraspar.db import make_engine
from moraspar.demo import load_demo
from moraspar.models import Role, User

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DEMO_PASSWORD = "moraspar-demo"
# A company user with two-step sign-in on, which no demo user has, so that the
# admin's page for turning it off has someone to show.
TWO_FACTOR_EMAIL = "tvasteg@moraspar.example"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _missing() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed"
    if not Path(CHROMIUM).exists():
        return "Debian's chromium is not installed (apt-get install chromium)"
    if not AXE.exists():
        return "axe-core is not installed (npm install in the checkout)"
    return None


def _add_user_with_two_factor(session: Session) -> None:
    colleague = session.exec(
        select(User).where(User.email == "company@moraspar.example")
    ).one()
    session.add(
        User(
            email=TWO_FACTOR_EMAIL,
            display_name="Tove Tvåsteg",
            role=Role.COMPANY,
            organisation_id=colleague.organisation_id,
            password_hash=colleague.password_hash,
            session_token=new_session_token(),
            totp_secret=pyotp.random_base32(),
        )
    )


def require_browser() -> None:
    reason = _missing()
    if reason is None:
        return
    if os.environ.get("MORASPAR_REQUIRE_BROWSER") == "1":
        pytest.fail(f"browser tests required but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: Any) -> Iterator[str]:
    require_browser()
    folder = tmp_path_factory.mktemp("live")
    url = f"sqlite:///{folder / 'live.db'}"
    engine = make_engine(url)
    SQLModel.metadata.create_all(engine)
    with Session(engine) as session:
        load_demo(session)
        _add_user_with_two_factor(session)
        session.commit()
        # Proposals for the review board and the proposal pages to show.
        run_matching(session)
    app = create_app(
        {
            "DATABASE_URL": url,
            "DATABASE_ENGINE": engine,
            "SECRET_KEY": "browser-test-secret",
            "OUTBOX_DIR": str(folder / "outbox"),
            # Jobs wait in a queue in memory: no worker runs them here.
            "QUEUE_URL": "memory://",
        }
    )
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    engine.dispose()


@pytest.fixture(scope="session")
def browser(live_server: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(locale="sv-SE", bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def sign_in(page: Any, base: str, email: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#email", email)
    page.fill("#password", DEMO_PASSWORD)
    with page.expect_navigation():
        page.click("form.form button[type=submit]")
    assert "/login" not in page.url, f"{email} could not sign in"
