"""Load benchmark: Moraspår under gunicorn, 50 simulated users, beside a trivial app.

    python bench/load/run.py [--users 50] [--seconds 60] [--workers 4]
                             [--database-url postgresql+psycopg://...]

Builds a scaled Mora dataset (200 companies, 2,000 placements, 500 needs),
runs one match run, serves the app with gunicorn, drives it with locust
(headless, offline) and then drives a trivial Flask endpoint under the same
gunicorn settings as the upper bound. Prints a markdown table.
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
from pathlib import Path

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent


def _wait(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"{url} did not come up")


def _serve(app: str, port: int, workers: int, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [
            str(BIN / "gunicorn"),
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--workers", type=int, default=4)
    # Users sign in as they arrive; statistics restart once all have arrived,
    # so the sign-in burst (argon2, deliberately slow) is not in the page figures.
    parser.add_argument("--spawn-rate", type=int, default=5)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()

    out = Path(tempfile.mkdtemp(prefix="moraspar-load-"))
    env = dict(os.environ)
    env.update(
        {
            "MORASPAR_DATABASE_URL": args.database_url
            or f"sqlite:///{out / 'load.db'}",
            "MORASPAR_INSTANCE_PATH": str(out),
            "MORASPAR_SECRET_KEY": "load-benchmark-secret-key-0123456789abcdef",
            # Many simulated users share one address: lift the sign-in limits.
            "MORASPAR_SIGNIN_LIMIT_IP": "100000",
            "MORASPAR_SIGNIN_LIMIT_ACCOUNT": "100000",
            "MORASPAR_MATCH_IN_THREAD": "false",
        }
    )
    moraspar = str(BIN / "moraspar")
    subprocess.run(
        [moraspar, "db", "upgrade"], env=env, check=True, stdout=subprocess.DEVNULL
    )
    subprocess.run([sys.executable, str(HERE / "scale_data.py")], env=env, check=True)
    subprocess.run([moraspar, "match"], env=env, check=True, stdout=subprocess.DEVNULL)

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
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}; {args.users} users, "
        f"{args.seconds} s, gunicorn {args.workers} sync workers; "
        f"database {'PostgreSQL' if args.database_url else 'SQLite'}\n"
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
