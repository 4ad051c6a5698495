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


@pytest.mark.parametrize(
    ("keep", "slab", "chunk"),
    [(True, 1 << 25, 16), (False, 7 * 60, 16), (False, 1 << 25, 2), (False, 1, 2)],
)
def test_neighbourhood_steps_equal_the_direct_computation(
    monkeypatch, keep, slab, chunk
):
    # A product not kept is made in slabs of rows: small slabs merge the
    # columns' nearest across many; small chunks take both selections
    # through the chunk maxima.
    monkeypatch.setattr(search, "SLAB_ENTRIES", slab)
    monkeypatch.setattr(search, "CHUNK", chunk)
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
        keep=keep,
    )
    want_needs, want_offers, want_penalty = direct(needs, offers, 4, 0.5, 5, lean, 5)
    np.testing.assert_allclose(hood.needs, want_needs, atol=1e-5)
    np.testing.assert_allclose(hood.offers, want_offers, atol=1e-5)
    np.testing.assert_allclose(hood.penalty, want_penalty, atol=1e-5)
    if keep:
        np.testing.assert_allclose(hood.text, want_needs @ want_offers.T, atol=1e-5)
    else:
        assert hood.text is None


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


@pytest.mark.parametrize("axis", [0, 1])
@pytest.mark.parametrize(
    ("shape", "k", "chunk"),
    [
        ((7, 50), 3, 4),
        ((9, 203), 5, 3),
        ((4, 30), 2, 16),
        ((5, 12), 12, 1),
        ((0, 40), 3, 2),
    ],
)
def test_largest_equals_a_full_sort(monkeypatch, axis, shape, k, chunk):
    # Chunks of 3 and 4 leave entries over (read always); chunks of 16 over
    # 30 entries are too few to pay, and a plain partition is used; all
    # entries (k = 12 of 12); no rows.
    monkeypatch.setattr(search, "CHUNK", chunk)
    rng = np.random.default_rng(5)
    x = rng.normal(size=shape if axis == 1 else shape[::-1]).astype(np.float32)
    values, at = search.largest(x, k, axis)
    by_row = x if axis == 1 else x.T
    want = np.sort(np.argsort(-by_row, axis=1)[:, :k], axis=1)
    np.testing.assert_array_equal(np.sort(at, axis=1), want)
    np.testing.assert_array_equal(values, np.take_along_axis(by_row, at, axis=1))


def test_largest_finds_the_best_when_they_share_a_chunk(monkeypatch):
    # 8 chunks of 4 (entry i in chunk i mod 8): the two best, entries 0 and
    # 8, share chunk 0, whose maximum alone must not hide the second.
    monkeypatch.setattr(search, "CHUNK", 4)
    x = np.full((2, 32), 0.5, dtype=np.float32)
    x[:, [0, 8]] = (3.0, 2.0)
    values, at = search.largest(x, 2, 1)
    np.testing.assert_array_equal(np.sort(at, axis=1), [[0, 8], [0, 8]])
    np.testing.assert_array_equal(np.sort(values, axis=1), [[2.0, 3.0], [2.0, 3.0]])


@pytest.mark.parametrize(("axis", "chunk"), [(0, 2), (1, 2), (1, 16)])
def test_largest_with_ties_gives_k_of_the_largest_values(monkeypatch, axis, chunk):
    # Entries of one decimal in [0, 1]: most rows tie at their k-th value.
    monkeypatch.setattr(search, "CHUNK", chunk)
    rng = np.random.default_rng(6)
    x = np.round(rng.random((40, 60)), 1).astype(np.float32)
    values, at = search.largest(x, 6, axis)
    by_row = x if axis == 1 else x.T
    want = -np.sort(-by_row, axis=1)[:, :6]
    np.testing.assert_array_equal(-np.sort(-values, axis=1), want)
    np.testing.assert_array_equal(values, np.take_along_axis(by_row, at, axis=1))
    assert all(np.unique(row).size == 6 for row in at)


def test_the_neighbourhood_steps_take_no_needs():
    offers = unit_rows(np.random.default_rng(7).normal(size=(10, 4)))
    hood = search.transduce(
        np.zeros((0, 4), dtype=np.float32),
        offers,
        expand_k=2,
        expand_weight=0.5,
        hub_k=2,
        keep=True,
    )
    assert hood.needs.shape == (0, 4) and hood.text.shape == (0, 10)
    assert not hood.penalty.any()


@pytest.mark.parametrize(
    ("chunk", "decimals"), [(1, 1), (2, 1), (3, 1), (16, 1), (2, 6), (3, 6)]
)
def test_top_entries_are_every_entry_up_to_each_rows_kth_with_its_ties(
    monkeypatch, chunk, decimals
):
    # Chunks of 1 and 2 (and of 3 over 41 entries, two left over) take the
    # chunk path, chunks of 16 the plain partition; one decimal makes most
    # rows tie at their k-th value, also with chunks not read (read whole).
    monkeypatch.setattr(search, "CHUNK", chunk)
    rng = np.random.default_rng(8)
    x = np.round(rng.random((30, 41)), decimals).astype(np.float32)
    row, col, value = search.top_entries(x, 5)
    kth = -np.sort(-x, axis=1)[:, 4]
    want = sorted(
        (r, -x[r, c], c) for r in range(30) for c in range(41) if x[r, c] >= kth[r]
    )
    assert list(zip(row, -value, col, strict=True)) == want


def test_top_entries_read_a_row_whole_where_a_chunk_not_read_ties(monkeypatch):
    # 10 chunks of 2 (entry i in chunk i mod 10); k = 2. Chunks 0 and 1 hold
    # the largest maxima (5 and 4 at entries 0 and 1) and are read; the
    # second of them sets the k-th value 4, which chunk 2 (entry 12) ties
    # without being read.
    monkeypatch.setattr(search, "CHUNK", 2)
    x = np.zeros((2, 20), dtype=np.float32)
    x[:, [0, 1, 12]] = (5.0, 4.0, 4.0)
    x[1, 12] = 3.0
    row, col, value = search.top_entries(x, 2)
    assert list(zip(row, col, value, strict=True)) == [
        (0, 0, 5.0),
        (0, 1, 4.0),
        (0, 12, 4.0),
        (1, 0, 5.0),
        (1, 1, 4.0),
    ]
