"""gunicorn settings for Moraspår's web processes (systemd unit and container).

Everything can be set from the environment; see moraspar.env.example.
"""

import gc
import os
import shutil
from pathlib import Path
from typing import Any

wsgi_app = "moraspar:create_app()"
bind = os.environ.get("MORASPAR_BIND", "127.0.0.1:8000")
# Sync workers: requests are short (the match run is a job, not a request);
# two to four per core. The load benchmark ran 4 on 2 cores.
workers = int(os.environ.get("MORASPAR_WEB_WORKERS", "4"))
worker_class = "sync"
timeout = 60
graceful_timeout = 30
keepalive = 5
# Recycle a worker now and then, so that no slow leak grows for weeks.
max_requests = 2000
max_requests_jitter = 200
# The proxy in front (nginx, the municipality's load balancer) sets
# X-Forwarded-*; set MORASPAR_PROXY_FIX_HOPS=1 as well.
forwarded_allow_ips = os.environ.get("MORASPAR_FORWARDED_ALLOW_IPS", "127.0.0.1")
# The app writes one line per request (logger moraspar.request) with its id
# and tokens masked; gunicorn's own access log would repeat it.
accesslog = None
errorlog = "-"
loglevel = "info"


def on_starting(server: Any) -> None:
    # prometheus-client keeps each worker's counts in files here; start clean.
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        shutil.rmtree(folder, ignore_errors=True)
        Path(folder).mkdir(parents=True, exist_ok=True)


def post_worker_init(worker: Any) -> None:
    # The app is loaded: its modules, routes, forms and translations are about
    # 250,000 objects that live as long as the worker. Frozen, they are left
    # out of Python's full collections, which otherwise walk them all (100-160
    # ms on a 2-core machine, in the middle of whichever request sets one off;
    # bench/README.md, "The served model"). Collected first, so that no garbage
    # is frozen.
    gc.collect()
    gc.freeze()


def child_exit(server: Any, worker: Any) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
