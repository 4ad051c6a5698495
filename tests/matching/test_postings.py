import dataclasses
from datetime import date

import pytest

from matching import (
    DuplicateId,
    InvalidArgument,
    InvalidPosting,
    InvalidWeights,
    MatchingError,
    Posting,
    Weights,
    allocate,
    rank,
)


def test_posting_is_frozen():
    p = Posting("a", "apl", "Svetsare")
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.count = 3  # type: ignore[misc]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"count": 0}, "count"),
        ({"count": -2}, "count"),
        ({"count": True}, "count"),
        ({"start": date(2025, 5, 2), "end": date(2025, 5, 1)}, "end"),
        ({"lat": 91.0, "lon": 14.0}, "lat"),
        ({"lat": -90.5, "lon": 14.0}, "lat"),
        ({"lat": float("nan"), "lon": 14.0}, "lat"),
        ({"lat": 61.0, "lon": 180.5}, "lon"),
        ({"lat": 61.0}, "lat"),
        ({"max_km": -1.0}, "max_km"),
        ({"max_km": float("inf")}, "max_km"),
        ({"id": ""}, "id"),
        ({"kind": ""}, "kind"),
        ({"skills": ["svetsning"]}, "skills"),
    ],
)
def test_bad_postings_raise_named_error(overrides, field):
    args = {"id": "a", "kind": "apl", "title": "t", **overrides}
    with pytest.raises(InvalidPosting) as info:
        Posting(**args)
    assert info.value.field == field
    assert isinstance(info.value, MatchingError)


def test_edge_values_are_accepted():
    p = Posting(
        "a",
        "apl",
        "t",
        lat=-90.0,
        lon=180.0,
        max_km=0.0,
        start=date(2025, 1, 1),
        end=date(2025, 1, 1),
    )
    assert p.max_km == 0.0


def test_duplicate_need_ids_raise():
    needs = [Posting("a", "apl", "x"), Posting("a", "apl", "y")]
    with pytest.raises(DuplicateId) as info:
        rank(needs, [Posting("o", "apl", "x")])
    assert info.value.posting_id == "a"


def test_duplicate_offer_ids_raise_in_allocate_too():
    offers = [Posting("o", "apl", "x"), Posting("o", "apl", "y")]
    with pytest.raises(DuplicateId):
        allocate([Posting("a", "apl", "x")], offers, {})


@pytest.mark.parametrize("k", [0, -1, True])
def test_bad_k_raises(k):
    with pytest.raises(InvalidArgument):
        rank([Posting("a", "apl", "x")], [Posting("o", "apl", "x")], k=k)


def test_bad_weights_raise():
    with pytest.raises(InvalidWeights):
        Weights(text=-1.0)
    with pytest.raises(InvalidWeights):
        Weights(text=0, skills=0, period=0, distance=0, capacity=0)
    with pytest.raises(InvalidWeights):
        Weights(distance_scale_km=0.0)
