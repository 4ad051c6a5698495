"""Closed-loop load: wrk with a fixed number of connections and no think time.

Each connection sends its next request as soon as the last one is answered,
so requests per second is the capacity of the server for that page. Every page
is driven in turn, between two runs of the trivial endpoint under the same
gunicorn settings, and reported as a share of the trivial endpoint's rate.
Roles sign in once through the form (CSRF token, argon2 at production
strength); the sign-ins are timed on their own, never mixed into the pages.
"""

import http.cookiejar
import os
import re
import shutil
import statistics
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

PASSWORD = "moraspar-demo"  # noqa: S105 - the public demo password
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
ACCOUNTS = {
    "teacher": "teacher@moraspar.example",
    "company": "company@moraspar.example",
    "council": "council@moraspar.example",
    "admin": "admin@moraspar.example",
}
# (role, path): the busiest pages first, then each role's home page.
PAGES = [
    ("teacher", "/school/search"),
    ("teacher", "/school/search?q=svetsning"),
    ("teacher", "/school/search?q=svetsning&km=60"),
    ("teacher", "/school/needs"),
    ("company", "/company/placements"),
    ("council", "/council/board"),
    ("council", "/gaps/"),
    ("teacher", "/school/"),
    ("company", "/company/"),
    ("council", "/council/"),
]
# Links a crawl of every page does not follow: sign-out, files and downloads,
# and one-time token links (those come by mail, never from a page).
_SKIP = re.compile(
    r"^/(logout|static/|unsubscribe/|invite/|reset/|bookings/(answer|evaluate)/)"
    r"|\.(ics|odt|json|csv|xlsx|txt)$|/export"
)
_HREF = re.compile(r'href="(/[^"#?]*)')
_RATE = re.compile(r"Requests/sec:\s+([0-9.]+)")
_PERCENTILE = re.compile(r"^\s+(50|99)%\s+([0-9.]+)(us|ms|s)\s*$", re.M)
_BAD = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")
_ERRORS = re.compile(r"Socket errors:.*")
_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


@dataclass(frozen=True)
class Result:
    rate: float  # requests per second
    p50_ms: float
    p99_ms: float
    bad: int  # non-2xx/3xx answers and socket errors
    load: float  # the machine's 1-minute load average when the run ended


def require_wrk() -> str:
    wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit("wrk is missing: apt-get install -y wrk")
    return wrk


def _opener() -> tuple[urllib.request.OpenerDirector, http.cookiejar.CookieJar]:
    jar = http.cookiejar.CookieJar()
    return urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar)), jar


def sign_in(base: str, email: str) -> str:
    """The Cookie header of a session signed in through the form."""
    opener, jar = _opener()
    with opener.open(f"{base}/login", timeout=60) as response:
        match = CSRF.search(response.read().decode())
    if match is None:
        raise RuntimeError("no CSRF token on /login")
    body = urllib.parse.urlencode(
        {"csrf_token": match.group(1), "email": email, "password": PASSWORD}
    ).encode()
    with opener.open(f"{base}/login", data=body, timeout=60) as response:
        if response.url.endswith("/login"):
            raise RuntimeError(f"sign-in of {email} failed")
    return "; ".join(f"{c.name}={c.value}" for c in jar)


def check_page(base: str, path: str, cookie: str) -> None:
    """Refuse to measure a page that does not answer 200 (a redirect to the
    sign-in page would be counted as a fast success by wrk)."""
    request = urllib.request.Request(  # noqa: S310 - the benchmark's own http URL
        f"{base}{path}", headers={"Cookie": cookie}
    )
    opener = urllib.request.build_opener()
    with opener.open(request, timeout=60) as response:
        sent_to_login = response.url.rstrip("/").endswith("/login") and not (
            path.startswith("/login")
        )
        if response.status != 200 or sent_to_login:
            raise RuntimeError(f"{path} answered {response.status} at {response.url}")


def _get(base: str, path: str, cookie: str) -> tuple[int, str, str]:
    """(status, content type, body) of a GET that does not follow redirects."""

    class _Stay(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: object, **kwargs: object) -> None:
            return None

    request = urllib.request.Request(  # noqa: S310 - the benchmark's own http URL
        f"{base}{path}", headers={"Cookie": cookie}
    )
    try:
        with urllib.request.build_opener(_Stay).open(request, timeout=60) as response:
            kind = response.headers.get("Content-Type", "")
            return response.status, kind, response.read().decode(errors="replace")
    except urllib.error.HTTPError as error:
        return error.code, "", ""


def crawl(base: str, cookie: str, start: str, limit: int = 60) -> list[str]:
    """Every HTML page a signed-in role reaches by following links from
    start, one address per route (ids and queries vary, the route does not):
    breadth first, at most limit pages, each answering 200."""
    shape = re.compile(r"\d+")
    seen_shapes: set[str] = set()
    pages: list[str] = []
    queue = [start]
    while queue and len(pages) < limit:
        path = queue.pop(0)
        key = shape.sub("<n>", path)
        if key in seen_shapes or _SKIP.search(path):
            continue
        seen_shapes.add(key)
        status, kind, body = _get(base, path, cookie)
        if status != 200 or not kind.startswith("text/html"):
            continue
        pages.append(path)
        queue.extend(_HREF.findall(body))
    return pages


def every_page(base: str, roles: dict[str, str]) -> list[tuple[str, str]]:
    """(role, path) of every page each role reaches from its home page, and
    the public pages for a visitor who is not signed in."""
    homes = {
        "teacher": "/school/",
        "company": "/company/",
        "council": "/council/",
        "admin": "/admin/",
    }
    pages = [("visitor", path) for path in crawl(base, "", "/")]
    for role, cookie in roles.items():
        pages += [(role, path) for path in crawl(base, cookie, homes[role])]
    return pages


def wrk(
    url: str, *, connections: int, seconds: int, cookie: str = "", threads: int = 2
) -> Result:
    command = [
        require_wrk(),
        f"-t{min(threads, connections)}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--latency",
    ]
    if cookie:
        command += ["-H", f"Cookie: {cookie}"]
    output = subprocess.run(
        [*command, url], check=True, capture_output=True, text=True
    ).stdout
    rate = _RATE.search(output)
    if rate is None:
        raise RuntimeError(f"unexpected wrk output:\n{output}")
    percentiles = {
        p: float(value) * _UNIT_MS[unit]
        for p, value, unit in _PERCENTILE.findall(output)
    }
    bad = _BAD.search(output)
    errors = _ERRORS.search(output)
    socket_errors = (
        sum(int(n) for n in re.findall(r"\d+", errors.group(0))) if errors else 0
    )
    return Result(
        rate=float(rate.group(1)),
        p50_ms=percentiles.get("50", float("nan")),
        p99_ms=percentiles.get("99", float("nan")),
        bad=(int(bad.group(1)) if bad else 0) + socket_errors,
        load=os.getloadavg()[0],
    )


def sign_in_burst(base: str, *, count: int, concurrency: int) -> tuple[float, ...]:
    """count sign-ins, concurrency at a time: (p50 s, p95 s, max s, wall s)."""
    emails = [ACCOUNTS[role] for role in sorted(ACCOUNTS)]

    def one(i: int) -> float:
        started = time.perf_counter()
        sign_in(base, emails[i % len(emails)])
        return time.perf_counter() - started

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        times = sorted(pool.map(one, range(count)))
    wall = time.perf_counter() - started
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    return (statistics.median(times), p95, times[-1], wall)


def drive(
    *,
    apps: dict[str, str],
    trivial_base: str,
    connections: int,
    seconds: int,
    pages: list[tuple[str, str]] | None = None,
    every: bool = False,
) -> tuple[list[tuple[str, str, str, Result]], list[Result]]:
    """Every page in turn, on each of apps ({name: base URL}, interleaved page
    by page), between trivial runs: (app, role, page, result) rows and the
    trivial endpoint's results (before, between every 3 pages, after).
    every: instead of pages, every page each role reaches (`every_page`, read
    off the first app)."""
    cookies = {
        (name, role): sign_in(base, ACCOUNTS[role])
        for name, base in apps.items()
        for role in ACCOUNTS
    }
    for name in apps:
        cookies[name, "visitor"] = ""
    if every:
        first = next(iter(apps))
        pages = every_page(
            apps[first], {role: cookies[first, role] for role in ACCOUNTS}
        )
    pages = pages or PAGES
    for name, base in apps.items():
        for role, path in pages:
            check_page(base, path, cookies[name, role])
            # warm every worker: first-request imports and per-process caches
            wrk(
                f"{base}{path}",
                connections=connections,
                seconds=1,
                cookie=cookies[name, role],
            )
    trivial = f"{trivial_base}/ping"
    wrk(trivial, connections=connections, seconds=1)
    ceilings = [wrk(trivial, connections=connections, seconds=seconds)]
    rows = []
    for n, (role, path) in enumerate(pages, start=1):
        for name, base in apps.items():
            result = wrk(
                f"{base}{path}",
                connections=connections,
                seconds=seconds,
                cookie=cookies[name, role],
            )
            rows.append((name, role, path, result))
        if n % 3 == 0 or n == len(pages):
            ceilings.append(wrk(trivial, connections=connections, seconds=seconds))
    return rows, ceilings
