"""The neighbourhood steps against a direct computation of each."""

import numpy as np
import pytest

from matching import search
from matching.text import unit_rows


def direct(needs, offers, k, weight, hub_k, lean, split):
    """Each step as written: full products, full sorts."""
    sims = needs.astype(np.float64) @ offers.T.astype(np.float64)
    near_offers = np.argsort(-sims, axis=1)[:, :k]
    near_needs = np.argsort(-sims.T, axis=1)[:, :k]
    moved_needs = unit_rows(needs + weight * offers[near_offers].mean(axis=1))
    moved_offers = unit_rows(offers + weight * needs[near_needs].mean(axis=1))
    moved_needs = moved_needs.astype(np.float64)
    moved_needs[:, :split] *= lean[:, :1]
    moved_needs[:, split:] *= lean[:, 1:]
    after = moved_offers.astype(np.float64) @ moved_needs.T
    hubness = np.sort(after, axis=1)[:, -hub_k:].mean(axis=1)
    return moved_needs, moved_offers, 0.5 * (hubness - hubness.min())


@pytest.mark.parametrize("block", [1 << 22, 7 * 60])
def test_neighbourhood_steps_equal_the_direct_computation(monkeypatch, block):
    # Small blocks: the columns' nearest are merged across many blocks.
    monkeypatch.setattr(search, "BLOCK_ENTRIES", block)
    rng = np.random.default_rng(3)
    needs = unit_rows(rng.normal(size=(45, 12)))
    offers = unit_rows(rng.normal(size=(60, 12)))
    lean = np.ones((45, 2), dtype=np.float32)
    lean[::3] = (0.3, 1.7)
    hood = search.transduce(
        needs,
        offers,
        expand_k=4,
        expand_weight=0.5,
        hub_k=5,
        lean=lean,
        split=5,
        keep=True,
    )
    want_needs, want_offers, want_penalty = direct(needs, offers, 4, 0.5, 5, lean, 5)
    np.testing.assert_allclose(hood.needs, want_needs, atol=1e-5)
    np.testing.assert_allclose(hood.offers, want_offers, atol=1e-5)
    np.testing.assert_allclose(hood.penalty, want_penalty, atol=1e-5)
    np.testing.assert_allclose(hood.text, want_needs @ want_offers.T, atol=1e-5)


def test_a_product_too_large_to_keep_is_not_kept(monkeypatch):
    monkeypatch.setattr(search, "KEEP_ENTRIES", 100)
    rng = np.random.default_rng(4)
    needs = unit_rows(rng.normal(size=(30, 8)))
    offers = unit_rows(rng.normal(size=(40, 8)))
    hood = search.transduce(
        needs, offers, expand_k=3, expand_weight=0.5, hub_k=3, keep=True
    )
    assert hood.text is None
    assert hood.penalty.min() == 0.0 and hood.penalty.max() > 0.0
