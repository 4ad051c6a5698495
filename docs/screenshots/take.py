"""Take the screenshots in this folder again.

    .venv/bin/python docs/screenshots/take.py

Builds a fresh SQLite database in a temporary folder with the demo data and
one match run, serves the app on a free local port, and photographs the pages
below with Playwright driving Debian's chromium (/usr/bin/chromium; browser
downloads do not work here). Each page is taken signed in as the demo user of
its role, in Swedish, at the width in its name.
"""

import logging
import re
import sys
import tempfile
import threading
from pathlib import Path

from playwright.sync_api import Page, sync_playwright
from sqlmodel import Session, SQLModel, col, select
from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from moraspar import create_app  # noqa: E402
from moraspar.bookings.requests import set_routes  # noqa: E402
from moraspar.council.runs import run_matching  # noqa: E402
from moraspar.db import make_engine  # noqa: E402
from moraspar.demo import DEMO_PASSWORD, load_demo  # noqa: E402
from moraspar.models import OutboxMessage, PostingKind, Role, User  # noqa: E402

OUT = Path(__file__).resolve().parent
CHROMIUM = "/usr/bin/chromium"
PHONE = 390
DESKTOP = 1280
# Phone shots stop after about four screens: enough to show the layout, and
# a 20-proposal board in full would be a 16,000 px tall file.
PHONE_MAX_HEIGHT = 3400

# The request loop, walked once at phone width: a need with its matches, the
# company's emailed answer link (opened without signing in) and the bookings.
LOOP_SHOTS = ("need-matches-390.png", "answer-link-390.png", "bookings-390.png")
LINK = re.compile(r"https?://[^/\s]+(/bookings/answer/\S+)")

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


def serve(folder: Path, *, run: bool = True) -> tuple[str, object]:
    url = f"sqlite:///{folder / 'demo.db'}"
    engine = make_engine(url)
    SQLModel.metadata.create_all(engine)
    with Session(engine) as session:
        load_demo(session)
        # Every kind straight to the company, so that a request is emailed.
        admin = session.exec(select(User).where(User.role == Role.ADMIN)).first()
        assert admin is not None
        set_routes(session, choices={kind: False for kind in PostingKind}, actor=admin)
        session.commit()
        if run:
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
    return f"http://127.0.0.1:{server.server_port}", server, engine


def sign_in(page: Page, base: str, role: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#email", f"{role}@moraspar.example")
    page.fill("#password", DEMO_PASSWORD)
    with page.expect_navigation():
        page.click("main form.form button[type=submit]")


def shoot(page: Page, name: str) -> None:
    height = min(
        page.evaluate("document.documentElement.scrollHeight"), PHONE_MAX_HEIGHT
    )
    clip = {"x": 0, "y": 0, "width": PHONE, "height": height}
    page.screenshot(path=str(OUT / name), full_page=True, clip=clip)
    print(f"{name}: {page.url} at {PHONE} px")


def walk_the_loop(browser: object, base: str, engine: object) -> None:
    need_shot, link_shot, bookings_shot = LOOP_SHOTS
    size = {"width": PHONE, "height": 900}
    teacher = browser.new_context(locale="sv-SE", viewport=size).new_page()  # type: ignore[attr-defined]
    sign_in(teacher, base, "teacher")
    teacher.goto(f"{base}/school/needs")
    links = teacher.locator("main a[href*='/school/needs/']").evaluate_all(
        "els => els.map(e => e.getAttribute('href'))"
    )
    for href in [h for h in links if re.search(r"/school/needs/\d+$", h)]:
        teacher.goto(base + href)
        if teacher.locator("#matches-heading").count():
            break
    else:
        raise SystemExit("no demo need shows live matches")
    shoot(teacher, need_shot)
    with teacher.expect_navigation():
        teacher.locator("section[aria-labelledby=matches-heading] button").first.click()
    with Session(engine) as session:  # type: ignore[arg-type]
        mail = session.exec(
            select(OutboxMessage).order_by(col(OutboxMessage.id).desc())
        ).first()
    found = LINK.search(mail.body_text) if mail else None
    if found is None:
        raise SystemExit("the request sent no email with an answer link")
    company = browser.new_context(locale="sv-SE", viewport=size).new_page()  # type: ignore[attr-defined]
    company.goto(base + found.group(1))
    shoot(company, link_shot)
    with company.expect_navigation():
        company.click("input[name=confirm]")
    teacher.goto(f"{base}/bookings/")
    shoot(teacher, bookings_shot)


def main() -> None:
    logging.disable(logging.INFO)  # one line per request would bury the summary
    with tempfile.TemporaryDirectory() as tmp:
        base, server, _engine = serve(Path(tmp))
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
            # Before any match run, so that the demo needs have live matches.
            loop_folder = Path(tmp) / "loop"
            loop_folder.mkdir()
            loop_base, loop_server, loop_engine = serve(loop_folder, run=False)
            walk_the_loop(browser, loop_base, loop_engine)
            loop_server.shutdown()  # type: ignore[attr-defined]
            browser.close()
        server.shutdown()  # type: ignore[attr-defined]


if __name__ == "__main__":
    main()
