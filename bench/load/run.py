"""Load benchmark: Moraspår under gunicorn, beside a trivial app.

    python bench/load/run.py [--users 50] [--seconds 60] [--workers 4]
                             [--database-url postgresql+psycopg://...]
    python bench/load/run.py --closed [--connections 8] [--seconds 10]
                             [--database-url sqlite]
                             [--database-url postgresql+psycopg://...]
                             [--baseline /path/to/a/checkout/of/another/commit]
                             [--without-page-cache] [--every-page]

Builds a scaled Mora dataset (200 companies, 2,000 placements, 500 needs),
runs one match run and serves the app with gunicorn. The default (think-time)
mode drives it with locust (headless, offline): 50 users with 2-5 s between
clicks, then a trivial Flask endpoint under the same gunicorn settings as the
upper bound. The closed-loop mode (--closed, needs wrk) drives every busy page
with a fixed number of connections and no think time, between runs of the
trivial endpoint served at the same time, and prints each page's rate as a
share of the trivial endpoint's; then a burst of sign-ins, timed apart.
--database-url may be given more than once ("sqlite" is a fresh SQLite
file; a PostgreSQL database must be empty). --baseline serves a checkout of
another commit on the same data and drives it page by page beside this tree,
so before and after share a run; --without-page-cache serves this tree once
more with the page cache off (MORASPAR_PAGE_CACHE_SIZE=0), what a page costs
on its first view and on the first view after any write; --every-page
drives every page each role (and a visitor) reaches by following links from
its home page, one address per route, instead of the busy pages. Prints
markdown tables.
"""

import argparse
import csv
import os
import platform
import subprocess
import sys
import tempfile
import time
import urllib.request
from functools import cache
from pathlib import Path

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent


def _wait(url: str, seconds: float = 180) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"{url} did not come up")


@cache
def _control_socket_options() -> tuple[str, ...]:
    """Newer gunicorns open a control socket at one fixed path by default, so
    a second server on the machine fails to start: turn it off where it exists."""
    usage = subprocess.run(
        [str(BIN / "gunicorn"), "--help"], capture_output=True, text=True, check=False
    ).stdout
    return ("--no-control-socket",) if "--no-control-socket" in usage else ()


def _serve(
    app: str, port: int, workers: int, env: dict[str, str], log: Path | None = None
) -> subprocess.Popen:
    return subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            *_control_socket_options(),
            "--workers",
            str(workers),
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            app,
        ],
        env=env,
        cwd=HERE,
        # the request log (one line a request) goes to a file, not the table
        stderr=log.open("ab") if log else None,
    )


def _locust(
    locustfile: str, port: int, users: int, seconds: int, out: Path, spawn_rate: int
) -> Path:
    prefix = out / Path(locustfile).stem
    subprocess.run(
        [
            str(BIN / "locust"),
            "-f",
            str(HERE / locustfile),
            "--headless",
            "--users",
            str(users),
            "--spawn-rate",
            str(spawn_rate),
            "--run-time",
            f"{seconds}s",
            "--host",
            f"http://127.0.0.1:{port}",
            "--csv",
            str(prefix),
            "--only-summary",
            "--loglevel",
            "ERROR",
            "--reset-stats",
        ],
        check=False,
        stdout=subprocess.DEVNULL,
    )
    return Path(f"{prefix}_stats.csv")


def _rows(stats: Path) -> list[dict[str, str]]:
    with stats.open(newline="") as handle:
        return list(csv.DictReader(handle))


def _environment(database_url: str, out: Path) -> dict[str, str]:
    env = dict(os.environ)
    # Sign-in is measured at production strength.
    env.pop("MORASPAR_PASSWORD_HASH_PROFILE", None)
    env.update(
        {
            "MORASPAR_DATABASE_URL": database_url
            if database_url not in ("", "sqlite")
            else f"sqlite:///{out / 'load.db'}",
            "MORASPAR_INSTANCE_PATH": str(out),
            "MORASPAR_SECRET_KEY": "load-benchmark-secret-key-0123456789abcdef",
            # Many simulated users share one address: lift the sign-in limits.
            "MORASPAR_SIGNIN_LIMIT_IP": "100000",
            "MORASPAR_SIGNIN_LIMIT_ACCOUNT": "100000",
            "MORASPAR_MATCH_IN_THREAD": "false",
        }
    )
    return env


def _build(env: dict[str, str]) -> None:
    moraspar = str(BIN / "moraspar")
    subprocess.run(
        [moraspar, "db", "upgrade"], env=env, check=True, stdout=subprocess.DEVNULL
    )
    subprocess.run(
        [sys.executable, str(HERE / "scale_data.py")],
        env=env,
        check=True,
        stderr=subprocess.DEVNULL,
    )
    subprocess.run(
        [moraspar, "match"],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = env["MORASPAR_DATABASE_URL"]
    if url.startswith("postgresql"):
        # The planner's statistics, as autovacuum keeps them in production: a
        # server with autovacuum off (as on the benchmark machines) would plan
        # every page for empty tables.
        import sqlalchemy as sa

        engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(sa.text("ANALYZE"))
        engine.dispose()


def _database_name(url: str) -> str:
    return "PostgreSQL" if url.startswith("postgresql") else "SQLite"


def _machine() -> str:
    return (
        f"{platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}"
    )


def closed(args: argparse.Namespace) -> None:
    import closed_loop

    closed_loop.require_wrk()
    print(
        f"Machine: {_machine()}; closed loop, wrk {args.connections} connections, "
        f"no think time, {args.seconds} s a page; gunicorn {args.workers} sync "
        f"workers; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}\n"
    )
    print(
        "| database | role | page | req/s | share of /ping | p50 ms | p99 ms "
        "| errors | load avg |"
    )
    print("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    bursts = []
    for url in args.database_url or ["sqlite"]:
        out = Path(tempfile.mkdtemp(prefix="moraspar-load-"))
        env = _environment(url, out)
        _build(env)
        log = out / "server.log"
        servers = [
            _serve("moraspar:create_app()", 8731, args.workers, env, log),
            _serve("trivial_app:app", 8732, args.workers, env, log),
        ]
        apps = {"this tree": "http://127.0.0.1:8731"}
        if args.baseline:
            # Another checkout of the app (say, the commit before a change),
            # on the same data, measured page by page beside this tree.
            baseline_env = {**env, "PYTHONPATH": str(Path(args.baseline).resolve())}
            servers.append(
                _serve("moraspar:create_app()", 8733, args.workers, baseline_env, log)
            )
            apps = {"baseline": "http://127.0.0.1:8733", **apps}
        if args.without_page_cache:
            # This tree once more with the page cache off: every view renders,
            # as the first view of a page and the first after any write do.
            servers.append(
                _serve(
                    "moraspar:create_app()",
                    8734,
                    args.workers,
                    {**env, "MORASPAR_PAGE_CACHE_SIZE": "0"},
                    log,
                )
            )
            apps["page cache off"] = "http://127.0.0.1:8734"
        try:
            for base in apps.values():
                _wait(f"{base}/healthz")
            _wait("http://127.0.0.1:8732/ping")
            rows, ceilings = closed_loop.drive(
                apps=apps,
                trivial_base="http://127.0.0.1:8732",
                connections=args.connections,
                seconds=args.seconds,
                every=args.every_page,
                pages=[
                    (r, p) for r, _, p in (page.partition(":") for page in args.page)
                ]
                or None,
            )
            ceiling = sum(c.rate for c in ceilings) / len(ceilings)
            name = _database_name(url)
            spread = ", ".join(f"{c.rate:.0f}" for c in ceilings)
            print(
                f"| {name} | – | trivial /ping (mean of {spread}) | {ceiling:.0f} "
                f"| 100 % | {ceilings[0].p50_ms:.1f} | {ceilings[0].p99_ms:.1f} "
                f"| {sum(c.bad for c in ceilings)} "
                f"| {max(c.load for c in ceilings):.2f} |"
            )
            for app_name, role, path, result in rows:
                label = f"{path} ({app_name})" if len(apps) > 1 else path
                print(
                    f"| {name} | {role} | {label} | {result.rate:.0f} "
                    f"| {100 * result.rate / ceiling:.1f} % | {result.p50_ms:.1f} "
                    f"| {result.p99_ms:.1f} | {result.bad} "
                    f"| {result.load:.2f} |"
                )
            if args.signins:
                bursts.append(
                    (
                        name,
                        closed_loop.sign_in_burst(
                            "http://127.0.0.1:8731",
                            count=args.signins,
                            concurrency=args.connections,
                        ),
                    )
                )
        finally:
            for server in servers:
                server.terminate()
                server.wait(timeout=30)
    if bursts:
        print(
            f"\nSign-in burst: {args.signins} sign-ins through the form (GET /login, "
            f"POST), {args.connections} at a time, argon2 production profile\n"
        )
        print("| database | p50 s | p95 s | max s | wall s | sign-ins/s |")
        print("| --- | ---: | ---: | ---: | ---: | ---: |")
        for name, (p50, p95, top, wall) in bursts:
            print(
                f"| {name} | {p50:.2f} | {p95:.2f} | {top:.2f} | {wall:.1f} "
                f"| {args.signins / wall:.1f} |"
            )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--closed", action="store_true", help="closed loop with wrk, no think time"
    )
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument(
        "--baseline",
        default="",
        help="closed loop: a checkout of another commit, measured beside this one",
    )
    parser.add_argument(
        "--without-page-cache",
        action="store_true",
        help="closed loop: also this tree with the page cache off",
    )
    parser.add_argument(
        "--every-page",
        action="store_true",
        help="closed loop: every page each role reaches by links, not the busy ones",
    )
    parser.add_argument(
        "--page",
        action="append",
        default=[],
        metavar="ROLE:PATH",
        help="closed loop: measure these pages (e.g. admin:/admin/jobs/) instead "
        "of the busy pages",
    )
    parser.add_argument(
        "--signins", type=int, default=50, help="closed loop: sign-ins in the burst"
    )
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument(
        "--seconds", type=int, default=0, help="default 60, closed loop 10"
    )
    parser.add_argument("--workers", type=int, default=4)
    # Users sign in as they arrive; statistics restart once all have arrived,
    # so the sign-in burst (argon2, deliberately slow) is not in the page figures.
    parser.add_argument("--spawn-rate", type=int, default=5)
    parser.add_argument("--database-url", action="append", default=[])
    args = parser.parse_args()
    if args.closed:
        args.seconds = args.seconds or 10
        closed(args)
        return
    args.seconds = args.seconds or 60
    database_url = args.database_url[-1] if args.database_url else ""

    out = Path(tempfile.mkdtemp(prefix="moraspar-load-"))
    env = _environment(database_url, out)
    _build(env)

    results = {}
    for name, app, locustfile, port in (
        ("Moraspår", "moraspar:create_app()", "locustfile.py", 8731),
        ("trivial Flask", "trivial_app:app", "locust_trivial.py", 8732),
    ):
        server = _serve(app, port, args.workers, env)
        try:
            _wait(f"http://127.0.0.1:{port}/" + ("healthz" if port == 8731 else "ping"))
            results[name] = _rows(
                _locust(
                    locustfile, port, args.users, args.seconds, out, args.spawn_rate
                )
            )
        finally:
            server.terminate()
            server.wait(timeout=30)

    print(
        f"Machine: {_machine()}; {args.users} users, "
        f"{args.seconds} s, gunicorn {args.workers} sync workers; "
        f"database {_database_name(database_url)}\n"
    )
    print("| server | request | requests | failures | req/s | p50 ms | p95 ms |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    for name, rows in results.items():
        for row in rows:
            print(
                f"| {name} | {row['Name']} | {row['Request Count']} | "
                f"{row['Failure Count']} | {float(row['Requests/s']):.1f} | "
                f"{row['50%']} | {row['95%']} |"
            )


if __name__ == "__main__":
    main()
