"""The web workers' gunicorn settings (deploy/gunicorn.conf.py)."""

import gc
import runpy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

SETTINGS = Path(__file__).resolve().parents[2] / "deploy" / "gunicorn.conf.py"


@pytest.fixture
def settings() -> Iterator[dict[str, Any]]:
    yield runpy.run_path(str(SETTINGS))
    gc.unfreeze()


def test_a_started_worker_freezes_what_it_has_loaded(
    settings: dict[str, Any],
) -> None:
    assert gc.get_freeze_count() == 0
    loaded = len(gc.get_objects())

    settings["post_worker_init"](None)

    # Everything the process held is frozen: a full collection walks none of it.
    assert gc.get_freeze_count() >= loaded // 2
    assert len(gc.get_objects()) < loaded // 10


def test_what_the_worker_makes_later_is_still_collected(
    settings: dict[str, Any],
) -> None:
    settings["post_worker_init"](None)

    class Node:
        other: "Node"

    a, b = Node(), Node()
    a.other, b.other = b, a  # a cycle: only the cyclic collector frees it
    del a, b

    assert gc.collect() >= 2
