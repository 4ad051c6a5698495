import itertools
import random

import pytest

from matching import (
    Assignment,
    InvalidArgument,
    InvalidMatch,
    Match,
    Posting,
    allocate,
)


def postings(prefix, counts):
    return [Posting(f"{prefix}{i}", "apl", "x", count=c) for i, c in enumerate(counts)]


def matches_of(pairs):
    out = {}
    for (n, o), s in pairs.items():
        out.setdefault(n, []).append(Match(n, o, s))
    return out


def brute_force(needs, offers, pairs, max_per_offer=None):
    """Best (students, total score) over every integer allocation."""
    need_cap = {p.id: p.count for p in needs}
    offer_cap = {p.id: p.count for p in offers}
    keys = sorted(pairs)
    ranges = []
    for n, o in keys:
        hi = min(need_cap[n], offer_cap[o], max_per_offer or 10**9)
        ranges.append(range(hi + 1))
    best = (0, 0.0)
    for xs in itertools.product(*ranges):
        used_n, used_o = {}, {}
        for (n, o), x in zip(keys, xs, strict=True):
            used_n[n] = used_n.get(n, 0) + x
            used_o[o] = used_o.get(o, 0) + x
        if any(v > need_cap[k] for k, v in used_n.items()):
            continue
        if any(v > offer_cap[k] for k, v in used_o.items()):
            continue
        value = (sum(xs), sum(x * pairs[k] for k, x in zip(keys, xs, strict=True)))
        if value[0] > best[0] or (value[0] == best[0] and value[1] > best[1] + 1e-12):
            best = value
    return best


def check_feasible(needs, offers, pairs, result, max_per_offer=None):
    need_cap = {p.id: p.count for p in needs}
    offer_cap = {p.id: p.count for p in offers}
    for a in result:
        assert isinstance(a, Assignment)
        assert a.students >= 1
        assert (a.need_id, a.offer_id) in pairs
        if max_per_offer is not None:
            assert a.students <= max_per_offer
    for n, cap in need_cap.items():
        assert sum(a.students for a in result if a.need_id == n) <= cap
    for o, cap in offer_cap.items():
        assert sum(a.students for a in result if a.offer_id == o) <= cap


@pytest.mark.parametrize("seed", range(40))
def test_optimal_against_brute_force(seed):
    rng = random.Random(seed)
    needs = postings("n", [rng.randint(1, 3) for _ in range(rng.randint(1, 3))])
    offers = postings("o", [rng.randint(1, 3) for _ in range(rng.randint(1, 3))])
    all_pairs = [(n.id, o.id) for n in needs for o in offers]
    chosen = rng.sample(all_pairs, rng.randint(1, min(5, len(all_pairs))))
    pairs = {p: round(rng.random(), 3) for p in chosen}
    cap = rng.choice([None, 1, 2])
    result = allocate(needs, offers, matches_of(pairs), max_per_offer=cap)
    check_feasible(needs, offers, pairs, result, cap)
    students = sum(a.students for a in result)
    score = sum(a.students * pairs[(a.need_id, a.offer_id)] for a in result)
    best_students, best_score = brute_force(needs, offers, pairs, cap)
    assert students == best_students
    assert score == pytest.approx(best_score, abs=1e-9)


def test_students_first_then_score():
    # Greedy on score would put n0 at o0 (0.9) and leave n1 with nothing.
    needs = postings("n", [1, 1])
    offers = postings("o", [1, 1])
    pairs = {("n0", "o0"): 0.9, ("n0", "o1"): 0.8, ("n1", "o0"): 0.1}
    result = allocate(needs, offers, matches_of(pairs))
    assert sorted((a.need_id, a.offer_id) for a in result) == [
        ("n0", "o1"),
        ("n1", "o0"),
    ]


def test_capacities_split_a_class():
    needs = postings("n", [5])
    offers = postings("o", [2, 2, 4])
    pairs = {("n0", "o0"): 0.9, ("n0", "o1"): 0.5, ("n0", "o2"): 0.4}
    result = allocate(needs, offers, matches_of(pairs))
    assert [(a.offer_id, a.students) for a in result] == [
        ("o0", 2),
        ("o1", 2),
        ("o2", 1),
    ]


def test_max_per_offer_spreads_students():
    needs = postings("n", [4])
    offers = postings("o", [4, 4, 4])
    pairs = {("n0", "o0"): 0.9, ("n0", "o1"): 0.5, ("n0", "o2"): 0.4}
    result = allocate(needs, offers, matches_of(pairs), max_per_offer=2)
    assert [(a.offer_id, a.students) for a in result] == [("o0", 2), ("o1", 2)]
    assert allocate(needs, offers, matches_of(pairs))[0].students == 4


def test_only_ranked_pairs_are_used():
    needs = postings("n", [3])
    offers = postings("o", [3, 3])
    result = allocate(needs, offers, matches_of({("n0", "o1"): 0.2}))
    assert result == [Assignment("n0", "o1", 3)]


def test_empty_inputs():
    assert allocate([], [], {}) == []
    needs = postings("n", [2])
    assert allocate(needs, postings("o", [1]), {}) == []
    assert allocate(needs, postings("o", [1]), {"n0": []}) == []


def test_deterministic_and_order_independent():
    rng = random.Random(7)
    needs = postings("n", [rng.randint(1, 4) for _ in range(12)])
    offers = postings("o", [rng.randint(1, 3) for _ in range(15)])
    # Equal scores everywhere: many optimal answers, one must be chosen stably.
    pairs = {(n.id, o.id): 0.5 for n in needs for o in offers if rng.random() < 0.4}
    first = allocate(needs, offers, matches_of(pairs))
    needs_r, offers_r = needs[::-1], offers[::-1]
    reordered = {n: ms[::-1] for n, ms in reversed(matches_of(pairs).items())}
    assert allocate(needs_r, offers_r, reordered) == first
    assert allocate(needs, offers, matches_of(pairs)) == first


def test_bad_matches_raise():
    needs, offers = postings("n", [1]), postings("o", [1])
    with pytest.raises(InvalidMatch):
        allocate(needs, offers, {"zz": [Match("zz", "o0", 0.5)]})
    with pytest.raises(InvalidMatch):
        allocate(needs, offers, {"n0": [Match("n0", "zz", 0.5)]})
    with pytest.raises(InvalidMatch):
        allocate(needs, offers, {"n0": [Match("n9", "o0", 0.5)]})
    with pytest.raises(InvalidArgument):
        allocate(needs, offers, {}, max_per_offer=0)
