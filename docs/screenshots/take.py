"""Take the screenshots in this folder again.

    .venv/bin/python docs/screenshots/take.py

Builds a fresh SQLite database in a temporary folder with the demo data and
one match run, serves the app on a free local port, and photographs the pages
below with Playwright driving Debian's chromium (/usr/bin/chromium; browser
downloads do not work here). Each page is taken signed in as the demo user of
its role, in Swedish, at the width in its name.
"""

import logging
import sys
import tempfile
import threading
from pathlib import Path

from playwright.sync_api import Page, sync_playwright
from sqlmodel import Session, SQLModel
from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from moraspar import create_app  # noqa: E402
from moraspar.council.runs import run_matching  # noqa: E402
from moraspar.db import make_engine  # noqa: E402
from moraspar.demo import DEMO_PASSWORD, load_demo  # noqa: E402

OUT = Path(__file__).resolve().parent
CHROMIUM = "/usr/bin/chromium"
PHONE = 390
DESKTOP = 1280
# Phone shots stop after about four screens: enough to show the layout, and
# a 20-proposal board in full would be a 16,000 px tall file.
PHONE_MAX_HEIGHT = 3400

# (file, demo user, path or "first proposal", width)
SHOTS = [
    ("teacher-search-390.png", "teacher", "/school/search", PHONE),
    ("review-board-390.png", "council", "/council/board", PHONE),
    ("proposal-390.png", "council", "first proposal", PHONE),
    ("gap-picture-390.png", "council", "/gaps/", PHONE),
    ("gap-picture.png", "council", "/gaps/", DESKTOP),
    ("review-board.png", "council", "/council/board", DESKTOP),
    ("allocation.png", "council", "/council/allocation", DESKTOP),
]


def serve(folder: Path) -> tuple[str, object]:
    url = f"sqlite:///{folder / 'demo.db'}"
    engine = make_engine(url)
    SQLModel.metadata.create_all(engine)
    with Session(engine) as session:
        load_demo(session)
        session.commit()
        run_matching(session)
    app = create_app(
        {
            "DATABASE_URL": url,
            "DATABASE_ENGINE": engine,
            "SECRET_KEY": "screenshots-only-secret-key-0123456789",
            "OUTBOX_DIR": str(folder / "outbox"),
            "QUEUE_URL": "memory://",
        }
    )
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_port}", server


def sign_in(page: Page, base: str, role: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#email", f"{role}@moraspar.example")
    page.fill("#password", DEMO_PASSWORD)
    with page.expect_navigation():
        page.click("main form.form button[type=submit]")


def main() -> None:
    logging.disable(logging.INFO)  # one line per request would bury the summary
    with tempfile.TemporaryDirectory() as tmp:
        base, server = serve(Path(tmp))
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=["--no-sandbox"]
            )
            for name, role, path, width in SHOTS:
                context = browser.new_context(
                    locale="sv-SE", viewport={"width": width, "height": 900}
                )
                page = context.new_page()
                sign_in(page, base, role)
                if path == "first proposal":
                    page.goto(f"{base}/council/board")
                    link = "main a[href*='/council/proposals/']:not([href*='#'])"
                    path = page.locator(link).first
                    path = path.get_attribute("href") or "/council/board"
                page.goto(base + path)
                height = page.evaluate("document.documentElement.scrollHeight")
                if width == PHONE:
                    height = min(height, PHONE_MAX_HEIGHT)
                clip = {"x": 0, "y": 0, "width": width, "height": height}
                page.screenshot(path=str(OUT / name), full_page=True, clip=clip)
                print(f"{name}: {path} at {width} px")
                context.close()
            browser.close()
        server.shutdown()  # type: ignore[attr-defined]


if __name__ == "__main__":
    main()
