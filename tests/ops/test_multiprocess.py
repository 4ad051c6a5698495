"""Two web processes and two workers on one PostgreSQL and one Redis: a match
run and a batch of invitations, one worker killed in the middle of the run;
in the end one set of proposals and every email delivered once.

Runs only against PostgreSQL (MORASPAR_TEST_DATABASE_URL, CI's second pass)
with Redis on 127.0.0.1:6379. The scheduler's one-minute recovery job is
run by hand (`moraspar jobs run recover`), so the test need not wait a minute.
"""

import contextlib
import http.cookiejar
import importlib.util
import os
import random
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from huey.storage import RedisStorage
from sqlmodel import Session, col, select

from moraspar.models import (
    CouncilMember,
    CouncilOrganisation,
    MailStatus,
    MatchProposal,
    MatchRun,
    Organisation,
    OrgKind,
    OutboxMessage,
    Role,
    RunStatus,
)

TEST_DATABASE_URL = os.environ.get("MORASPAR_TEST_DATABASE_URL", "")
REDIS_URL = "redis://127.0.0.1:6379/13"
LEASE_SECONDS = 3
INVITES = 12
BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not TEST_DATABASE_URL.startswith("postgresql"),
        reason="needs PostgreSQL (MORASPAR_TEST_DATABASE_URL) and Redis",
    ),
]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait(what: str, check: Callable[[], bool], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


class Inbox:
    def __init__(self) -> None:
        self.message_ids: list[str] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        for line in envelope.content.decode("utf-8", "replace").splitlines():
            if line.lower().startswith("message-id:"):
                self.message_ids.append(line.split(":", 1)[1].strip())
        return "250 Message accepted"


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    inbox, port = Inbox(), _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


@pytest.fixture
def redis_queue() -> Iterator[None]:
    storage = RedisStorage("moraspar", url=REDIS_URL)
    storage.flush_all()
    yield
    storage.flush_all()


def _scaled_data(db: Session) -> None:
    """The load benchmark's data: the demo plus 2,000 placements, 500 needs."""
    spec = importlib.util.spec_from_file_location(
        "scale_data", ROOT / "bench" / "load" / "scale_data.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.scale(db, random.Random(2026))
    db.commit()


@pytest.fixture
def cluster(
    engine: sa.Engine,
    db: Session,
    inbox: tuple[Inbox, int],
    redis_queue: None,
    tmp_path: Path,
) -> Iterator[dict[str, Any]]:
    _scaled_data(db)
    env = {
        **os.environ,
        "MORASPAR_DATABASE_URL": TEST_DATABASE_URL,
        "MORASPAR_QUEUE_URL": REDIS_URL,
        "MORASPAR_SECRET_KEY": "multi-process-test-secret-key-0123456789",
        "MORASPAR_INSTANCE_PATH": str(tmp_path),
        "MORASPAR_MAIL_SERVER": "127.0.0.1",
        "MORASPAR_MAIL_PORT": str(inbox[1]),
        "MORASPAR_JOB_LEASE_SECONDS": str(LEASE_SECONDS),
        "MORASPAR_PASSWORD_HASH_PROFILE": "CHEAPEST",
    }
    env.pop("MORASPAR_TEST_DATABASE_URL", None)
    ports = [_free_port(), _free_port()]
    processes: dict[str, subprocess.Popen[bytes]] = {}
    logs = tmp_path / "logs"
    logs.mkdir()
    files: list[Any] = []

    def log_file(name: str) -> Any:
        files.append((logs / f"{name}.log").open("wb"))
        return files[-1]

    try:
        for i, port in enumerate(ports):
            processes[f"web{i}"] = subprocess.Popen(
                [str(BIN / "gunicorn"), "-w", "1", "-b", f"127.0.0.1:{port}",
                 "moraspar:create_app()"],
                env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                stderr=log_file(f"web{i}"),
            )  # fmt: skip
        for i in range(2):
            processes[f"worker{i}"] = subprocess.Popen(
                [str(BIN / "moraspar"), "worker", "--threads", "1", "--no-scheduler"],
                env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                stderr=log_file(f"worker{i}"),
            )  # fmt: skip
        for port in ports:
            _wait(f"web on {port}", lambda port=port: _ready(port))
        yield {"ports": ports, "processes": processes, "env": env, "logs": logs}
    finally:
        for process in processes.values():
            with contextlib.suppress(ProcessLookupError):
                process.terminate()
        for process in processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for file in files:
            file.close()


def _ready(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as r:
            return bool(r.status == 200)
    except (OSError, urllib.error.URLError):
        return False


class Browser:
    """Cookies shared by both web processes (same host, same secret key)."""

    def __init__(self) -> None:
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )

    def get(self, url: str) -> str:
        with self.opener.open(url, timeout=30) as response:
            return str(response.read().decode())

    def post(self, url: str, form_url: str, data: dict[str, Any]) -> int:
        page = self.get(form_url)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert token, f"no CSRF token on {form_url}"
        body = urllib.parse.urlencode({"csrf_token": token.group(1), **data}).encode()
        with self.opener.open(url, data=body, timeout=60) as response:
            return int(response.status)


def test_one_set_of_proposals_and_every_email_once(
    cluster: dict[str, Any], db: Session, make_user: Any, inbox: tuple[Inbox, int]
) -> None:
    web = [f"http://127.0.0.1:{port}" for port in cluster["ports"]]
    member = make_user(Role.COUNCIL, email="radet@example.se")
    make_user(Role.ADMIN, email="admin@example.se")
    # The member's council works for every school and company of the data.
    [council_id] = db.exec(
        select(CouncilMember.council_id).where(CouncilMember.user_id == member.id)
    ).all()
    known = set(
        db.exec(
            select(CouncilOrganisation.organisation_id).where(
                CouncilOrganisation.council_id == council_id
            )
        ).all()
    )
    for organisation in db.exec(
        select(Organisation).where(
            col(Organisation.kind).in_([OrgKind.SCHOOL, OrgKind.COMPANY])
        )
    ).all():
        if organisation.id not in known:
            db.add(
                CouncilOrganisation(
                    council_id=council_id, organisation_id=organisation.id or 0
                )
            )
    db.commit()
    school = db.exec(
        select(Organisation).where(Organisation.kind == OrgKind.SCHOOL)
    ).first()
    assert school is not None
    council, admin = Browser(), Browser()
    for browser, who, site in (
        (council, "radet@example.se", web[0]),
        (admin, "admin@example.se", web[1]),
    ):
        browser.post(
            f"{site}/login",
            f"{site}/login",
            {"email": who, "password": "correct horse battery"},
        )

    # The demo's own proposals (made before any run) are not the run's.
    seeded = set(db.exec(select(MatchProposal.id)).all())
    # The council member starts a run on the first web process ...
    council.post(f"{web[0]}/council/runs/new", f"{web[0]}/council/runs", {})
    run = db.exec(select(MatchRun)).one()

    def in_the_middle() -> bool:
        db.expire_all()
        current = db.get(MatchRun, run.id)
        return bool(
            current and current.status == RunStatus.RUNNING and current.progress >= 1
        )

    _wait("the run to be ranking", in_the_middle)
    # ... the admin invites people through the second, while it runs.
    for n in range(INVITES):
        site = web[n % 2]
        status = admin.post(
            f"{site}/admin/users/invite",
            f"{site}/admin/users/invite",
            {
                "email": f"ny{n}@example.se",
                "display_name": f"Ny person {n}",
                "role": Role.TEACHER,
                "organisation_id": school.id,
                "language": "sv",
            },
        )
        assert status == 200
    # Kill the worker that holds the run, in the middle of it.
    db.expire_all()
    held = db.get(MatchRun, run.id)
    assert held is not None and held.status == RunStatus.RUNNING, held
    pid = int(held.worker.rsplit(":", 1)[1])
    victims = [n for n, p in cluster["processes"].items() if p.pid == pid]
    assert victims, f"the run is held by {held.worker}, not one of our workers"
    os.kill(pid, signal.SIGKILL)
    cluster["processes"][victims[0]].wait(timeout=10)

    # The recovery job (every minute under the scheduler) after the lease;
    # then the other worker runs it (no more recovery meanwhile: a phase of
    # this run is longer than the test's 3-second lease).
    def taken_up() -> bool:
        subprocess.run(
            [str(BIN / "moraspar"), "jobs", "run", "recover"],
            env=cluster["env"], cwd=ROOT, check=True, capture_output=True,
        )  # fmt: skip
        db.expire_all()
        current = db.get(MatchRun, run.id)
        return bool(current and current.attempts >= 2)

    def finished() -> bool:
        db.expire_all()
        current = db.get(MatchRun, run.id)
        return bool(current and current.status == RunStatus.DONE)

    _wait("the run to be taken up", taken_up, seconds=120)
    _wait("the run to finish", finished, seconds=300)

    def delivered() -> bool:
        db.expire_all()
        return all(
            m.status == MailStatus.SENT for m in db.exec(select(OutboxMessage)).all()
        )

    _wait("every email to be delivered", delivered, seconds=60)

    db.expire_all()
    runs = db.exec(select(MatchRun)).all()
    assert [(r.status, r.attempts) for r in runs] == [(RunStatus.DONE, 2)]
    proposals = [p for p in db.exec(select(MatchProposal)).all() if p.id not in seeded]
    assert proposals
    assert {p.run_id for p in proposals} == {run.id}
    pairs = [(p.need_id, p.placement_id) for p in proposals]
    assert len(pairs) == len(set(pairs))
    messages = db.exec(select(OutboxMessage)).all()
    assert len(messages) == INVITES
    sent_ids = sorted(inbox[0].message_ids)
    assert sent_ids == sorted(m.message_id or "" for m in messages)  # each once
