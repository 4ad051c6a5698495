import gc
import sys
from pathlib import Path

import numpy as np
import pytest

import matching
from matching import InvalidArgument, Posting
from matching.gcpause import collector_paused

SKILLS = [
    "Svetsning",
    "Plåtslageri",
    "Omvårdnad",
    "Hygienrutiner",
    "Bakning",
    "Kallskänk",
]


def _postings(prefix, n, seed):
    rng = np.random.default_rng(seed)
    return [
        Posting(
            f"{prefix}{i}",
            "apl",
            f"Plats {i}",
            skills=tuple(SKILLS[j] for j in sorted(rng.choice(6, 3, replace=False))),
        )
        for i in range(n)
    ]


@pytest.fixture
def collections():
    """The automatic collections that start inside the library's code while
    the test runs (not at the edges of the pause), with a collector that
    would run after almost every allocation."""
    seen = []
    library = Path(matching.__file__).parent

    def count(phase, info):
        if phase != "start":
            return
        frame = sys._getframe(1)
        while frame is not None:
            if Path(frame.f_code.co_filename).parent == library:
                seen.append(frame.f_code.co_name)
                return
            frame = frame.f_back

    threshold = gc.get_threshold()
    gc.set_threshold(1, 1, 1)
    gc.callbacks.append(count)
    try:
        yield seen
    finally:
        gc.callbacks.remove(count)
        gc.set_threshold(*threshold)


def _build(n):
    return [Posting(f"x{i}", "apl", "Plats", skills=("Svetsning",)) for i in range(n)]


def test_no_collection_runs_while_a_model_fits_indexes_and_ranks(collections):
    needs, offers = _postings("n", 30, 1), _postings("o", 60, 2)
    everything = [*needs, *offers]
    collections.clear()
    model = matching.fit(everything)
    index = model.index(offers)
    ranked = model.rank(needs, index, k=3)
    both = matching.rank(needs, offers, k=3)
    assert collections == []
    assert gc.isenabled()
    assert ranked == both


def test_the_fixture_sees_collections_in_library_code_outside_the_pause(collections):
    from matching import postings

    postings.check_unique(_build(200), "need")
    assert collections


def test_the_collector_is_on_again_after_an_error():
    with pytest.raises(InvalidArgument):
        matching.fit(_postings("n", 20, 1)).rank(_postings("m", 5, 3), [], k=0)
    assert gc.isenabled()


def test_a_collector_turned_off_by_the_caller_stays_off():
    gc.disable()
    try:
        with collector_paused():
            assert not gc.isenabled()
        matching.rank(_postings("n", 5, 1), _postings("o", 10, 2), k=2)
        assert not gc.isenabled()
    finally:
        gc.enable()
