"""The ranker's top k against a brute-force scorer that scores every pair."""

import itertools
import math
import random
from datetime import date

import numpy as np
import pytest

from matching import InvalidArgument, Posting, Ranker, Weights, explain, search
from matching import score as score_module
from matching.fit import document
from matching.geo import haversine_km
from matching.keys import KeyIndex, skill_key
from matching.ranking import reads_as_skill_list
from matching.search import is_bare_title, transduce

MORA = (61.004, 14.537)


def reference_rank(ranker, needs, offers, *, skills=False):
    """Every (need, offer) pair scored directly in float64 from the ranker's
    text vectors: hard rules, the five parts, the weighted mean; all pairs
    that pass the rules, best first, ties by offer id, as (offer id, score)
    or, with `skills`, (offer id, score, skills part)."""
    w, keys = ranker.weights_, KeyIndex()
    ns, os_ = ranker._side(needs, keys), ranker._side(offers, keys)
    pw = np.array(w.part_weights()) / sum(w.part_weights())
    m_latent, m_paired, m_chars = w.text_mix()
    shares = ranker.char_shares(needs)
    chars = ranker.chars_.transform([document(p) for p in [*needs, *offers]])
    chars = chars.astype(np.float64)
    out = {n.id: [] for n in needs}
    for kind in {n.kind for n in needs}:
        ni = sorted(
            (i for i, n in enumerate(needs) if n.kind == kind),
            key=lambda i: needs[i].id,
        )
        oi = sorted(
            (j for j, o in enumerate(offers) if o.kind == kind),
            key=lambda j: offers[j].id,
        )
        if not oi:
            continue
        hood = transduce(
            ns.search[ni],
            os_.search[oi],
            expand_k=ranker.expand_k,
            expand_weight=ranker.expand_weight,
            hub_k=ranker.hub_k,
            lean=ranker.lean([needs[i] for i in ni]),
            split=ranker.latent_width(),
        )
        nv, ov, penalty = hood.needs, hood.offers, hood.penalty
        for a, i in enumerate(ni):
            n, scored = needs[i], []
            n_keys = {skill_key(s) for s in n.skills} - {""}
            for b, j in enumerate(oi):
                o = offers[j]
                lo = max(d for d in (n.start, o.start, date.min) if d)
                hi = min(d for d in (n.end, o.end, date.max) if d)
                if lo > hi:
                    continue
                km = math.nan
                if n.lat is not None and o.lat is not None:
                    km = float(haversine_km(n.lat, n.lon, o.lat, o.lon))
                    if n.max_km is not None and km > n.max_km:
                        continue
                dot = float(nv[a].astype(float) @ ov[b].astype(float)) - float(
                    penalty[b]
                )
                char = float((chars[i] @ chars[len(needs) + j].T).toarray()[0, 0])
                # A title or a free text reads its raw characters too, more
                # against a bare title (its search vector was scaled for the
                # first share).
                own, bare = shares[i]
                if is_bare_title(o):
                    dot *= (1 - bare) / (1 - own) if own < 1 else 0.0
                    own = bare
                cosine = dot + own * char
                o_keys = {skill_key(s) for s in o.skills}
                full = n.start is not None and n.end is not None
                parts = [
                    (m_latent + m_paired) * cosine + m_chars * char,
                    len(n_keys & o_keys) / len(n_keys) if n_keys else 0.0,
                    ((hi - lo).days + 1) / ((n.end - n.start).days + 1)
                    if full
                    else 1.0,
                    0.5 if math.isnan(km) else math.exp(-km / w.distance_scale_km),
                    min(o.count / n.count, 1.0),
                ]
                score = float(np.clip(pw @ np.clip(parts, 0.0, 1.0), 0.0, 1.0))
                scored.append((-round(score, 9), o.id, score, min(parts[1], 1.0)))
            out[n.id] = [
                (oid, s, *([part] if skills else []))
                for _, oid, s, part in sorted(scored)
            ]
    return out


SKILLS = [
    "Svetsning",
    "MIG-svetsning",
    "Plåtslageri",
    "Lödning",
    "svetsning",
    "Omvårdnad",
    "Hygienrutiner",
    "Demensvård",
    "Matlagning",
    "Bakning",
    "Kallskänk",
]


def _instance(seed, n_needs=12, n_offers=70):
    rng = random.Random(seed)

    def posting(id_, **kw):
        first = date(2026, 1, 1).toordinal() + rng.randint(0, 120)
        dated = rng.random() < 0.7
        placed = rng.random() < 0.8
        return Posting(
            id_,
            rng.choice(["apl", "apl", "prao"]),
            rng.choice(["", "Verkstad", "Kök", "Vård och omsorg"]),
            rng.choice(["", "svetsning och montering", "laga mat"]),
            skills=tuple(rng.sample(SKILLS, rng.randint(0, 5))),
            start=date.fromordinal(first) if dated else None,
            end=date.fromordinal(first + rng.randint(7, 60)) if dated else None,
            lat=MORA[0] + rng.random() / 4 if placed else None,
            lon=MORA[1] + rng.random() / 4 if placed else None,
            count=rng.randint(1, 4),
            **kw,
        )

    needs = [
        posting(f"n{i:02d}", max_km=rng.choice([None, 8.0, 15.0]))
        for i in range(n_needs)
    ]
    offers = [posting(f"o{i:03d}") for i in range(n_offers)]
    # Copies under other ids: exact ties that must go by offer id.
    offers += [
        Posting(
            f"c{i:03d}",
            **{f: getattr(o, f) for f in o.__dataclass_fields__ if f != "id"},
        )
        for i, o in enumerate(rng.sample(offers, 20))
    ]
    rng.shuffle(offers)
    return needs, offers


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize(
    "weights",
    [
        None,
        Weights(latent=0.3, paired=0.4, chars=0.3, skills=0.2, period=0.2),
        Weights(latent=1.0, paired=0.0, chars=0.0, text=0.3, distance=0.3),
        Weights(latent=0.0, paired=0.0, chars=1.0),
    ],
    ids=["learned", "mixed", "soft-parts-heavy", "chars"],
)
def test_top_k_equals_scoring_every_pair(seed, weights):
    needs, offers = _instance(seed)
    ranker = Ranker(weights=weights, candidates=1).fit([*needs, *offers])
    k = 2 + seed % 4
    got = ranker.rank(needs, offers, k=k)
    every = reference_rank(ranker, needs, offers, skills=True)
    assert {n: [m.offer_id for m in ms] for n, ms in got.items()} == {
        n: [oid for oid, *_ in ms[:k]] for n, ms in every.items()
    }
    # The raw character cosine is summed in float32, the rest in float64.
    tolerance = 1e-6 if ranker.weights_.chars > 0 else 1e-9
    for n, ms in got.items():
        for m, (_, score, skills) in zip(ms, every[n], strict=False):
            assert m.score == pytest.approx(score, abs=tolerance)
            # Reported whether or not the skills part weighs in the score.
            assert m.parts["skills"] == pytest.approx(skills, abs=1e-12)
    # The instance holds exact ties, which must go by offer id.
    assert any(a[1] == b[1] for ms in every.values() for a, b in itertools.pairwise(ms))


def _ids_and_scores(ranked):
    return {n: [(m.offer_id, m.score) for m in ms] for n, ms in ranked.items()}


@pytest.mark.parametrize("seed", range(4))
def test_ranking_against_an_index_equals_scoring_every_pair(seed):
    needs, offers = _instance(seed)
    ranker = Ranker(candidates=1).fit([*needs, *offers])
    index = ranker.index(offers)
    k = 2 + seed
    got = ranker.rank(needs, index, k=k)
    assert got == ranker.rank(needs, offers, k=k)
    every = reference_rank(ranker, needs, offers)
    assert {n: [m.offer_id for m in ms] for n, ms in got.items()} == {
        n: [oid for oid, _ in ms[:k]] for n, ms in every.items()
    }
    # One need at a time, as the app asks: each as if ranked alone.
    for need in needs:
        alone = ranker.rank([need], index, k=k)
        assert _ids_and_scores(alone) == _ids_and_scores(
            ranker.rank([need], offers, k=k)
        )
        reference = reference_rank(ranker, [need], offers)[need.id][:k]
        assert [m.offer_id for m in alone[need.id]] == [o for o, _ in reference]


def test_an_index_serves_many_calls_without_growing():
    needs, offers = _instance(0)
    ranker = Ranker().fit([*needs, *offers])
    index = ranker.index(offers)
    keys_before = dict(index.keys.ids)
    stranger = Posting("n-new", "apl", "Snickare", skills=("Takläggning", "Svetsning"))
    first = ranker.rank([stranger], index, k=3)
    assert index.keys.ids == keys_before
    assert ranker.rank([stranger], index, k=3) == first
    assert len(index) == len(offers)
    # The offers' label vectors are kept in the index, a need's new labels
    # are read per call: the same vectors either way.
    listed = [s for s in SKILLS[:4] if s in index.labels.row]
    assert listed
    np.testing.assert_allclose(
        index.labels.vectors[[index.labels.row[s] for s in listed]],
        ranker.skill_vectors(listed),
        atol=1e-6,
    )


def test_an_index_from_another_model_is_refused():
    needs, offers = _instance(1)
    ranker = Ranker().fit([*needs, *offers])
    other = Ranker(random_state=1).fit([*needs, *offers])
    with pytest.raises(InvalidArgument, match="another model"):
        other.rank(needs, ranker.index(offers))
    # Weights changed after the index was made: its vectors are stale.
    index = ranker.index(offers)
    ranker.weights_ = Weights(latent=1.0, paired=0.0)
    with pytest.raises(InvalidArgument, match="another model"):
        ranker.rank(needs, index)


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize(("kept", "chunk"), [(True, 2), (False, 2), (False, 1)])
def test_every_neighbourhood_step_and_block_path_stays_exact(
    monkeypatch, seed, kept, chunk
):
    # Enough needs for every step (twice the neighbourhood sizes); blocks and
    # slabs of a few rows, so that nearest columns are merged across slabs
    # when the product is not kept; chunks so small that the selections go
    # through their maxima (chunks of 1 for the search's 15 candidates).
    monkeypatch.setattr(search, "BLOCK_ENTRIES", 5 * 90)
    monkeypatch.setattr(search, "SLAB_ENTRIES", 5 * 90)
    monkeypatch.setattr(search, "CHUNK", chunk)
    if not kept:
        monkeypatch.setattr(search, "KEEP_ENTRIES", 0)
    needs, offers = _instance(seed, n_needs=30, n_offers=70)
    ranker = Ranker(candidates=1, expand_k=3, hub_k=4).fit([*needs, *offers])
    index = ranker.index(offers)
    got = ranker.rank(needs, index, k=3)
    every = reference_rank(ranker, needs, offers)
    assert {n: [m.offer_id for m in ms] for n, ms in got.items()} == {
        n: [oid for oid, _ in ms[:3]] for n, ms in every.items()
    }
    for n, ms in got.items():
        for m, (_, score) in zip(ms, every[n], strict=False):
            assert m.score == pytest.approx(score, abs=1e-9)


@pytest.mark.parametrize("seed", range(3))
def test_a_subset_of_an_index_ranks_as_its_offers(seed):
    needs, offers = _instance(seed)
    ranker = Ranker(candidates=1).fit([*needs, *offers])
    index = ranker.index(offers)
    rows = sorted(random.Random(seed).sample(range(len(offers)), 40))
    part = index.subset(rows)
    assert len(part) == 40
    got = ranker.rank(needs, part, k=3)
    every = reference_rank(ranker, needs, [offers[r] for r in rows])
    assert {n: [m.offer_id for m in ms] for n, ms in got.items()} == {
        n: [oid for oid, _ in ms[:3]] for n, ms in every.items()
    }
    for n, ms in got.items():
        for m, (_, score) in zip(ms, every[n], strict=False):
            assert m.score == pytest.approx(score, abs=1e-6)
    # The subset's prepared skills give the reasons ranking its offers gives.
    direct = ranker.rank(needs, [offers[r] for r in rows], k=3)
    assert {n: [m.reasons for m in ms] for n, ms in got.items()} == {
        n: [m.reasons for m in ms] for n, ms in direct.items()
    }
    with pytest.raises(InvalidArgument, match="positions"):
        index.subset([len(offers)])
    with pytest.raises(InvalidArgument, match="distinct"):
        index.subset([1, 1])
    ranker.weights_ = Weights(latent=1.0, paired=0.0)
    with pytest.raises(InvalidArgument, match="weights changed"):
        index.subset(rows)


@pytest.mark.parametrize("seed", range(3))
def test_related_skills_are_the_closest_other_labels_of_the_offer(seed):
    # Checked label by label against cosines computed directly: each reason
    # lists the offer's closest labels that the need does not list (at least
    # RELATED_SKILL_MIN), closest first, at most three.
    needs, offers = _instance(seed, n_needs=20, n_offers=60)
    ranker = Ranker().fit([*needs, *offers])
    by_id = {p.id: p for p in [*needs, *offers]}
    seen = 0
    for need_id, matches in ranker.rank(needs, offers, k=5).items():
        need = by_id[need_id]
        own = {skill_key(s) for s in need.skills} - {""}
        for m in matches:
            reasons = {r.code: r.values for r in m.reasons}
            listed = reasons.get("related_skills", ())
            firsts: dict[str, str] = {}
            for s in by_id[m.offer_id].skills:
                if skill_key(s) and skill_key(s) not in own:
                    firsts.setdefault(skill_key(s), s)
            labels = list(firsts.values())
            if not need.skills or not labels:
                assert listed == ()
                continue
            near = (
                ranker.skill_vectors(labels) @ ranker.skill_vectors(need.skills).T
            ).max(axis=1)
            cosine = dict(zip(labels, near.tolist(), strict=True))
            expected = sorted(
                (s for s in labels if cosine[s] >= explain.RELATED_SKILL_MIN),
                key=lambda s: -cosine[s],
            )[:3]
            assert len(listed) == len(expected)
            for got, want in zip(listed, expected, strict=True):
                assert cosine[got] == pytest.approx(cosine[want], abs=1e-5)
            seen += len(listed)
    assert seen > 0


def test_nearest_cosines_equal_each_entry_on_its_own():
    # Runs of entries per need in no order of need, one need with no rows,
    # one need listed in two runs.
    rng = np.random.default_rng(3)
    vectors = rng.normal(size=(30, 5)).astype(np.float32)
    starts = np.array([0, 3, 3, 7, 8, 12])
    rows = rng.integers(0, 30, starts[-1])
    owner = np.repeat([4, 0, 1, 3, 2, 0], [6, 2, 5, 1, 9, 3])
    labels = rng.integers(0, 30, owner.size)
    got = explain.nearest_cosines(vectors, labels, owner, rows, starts)
    for e, (label, i) in enumerate(zip(labels, owner, strict=True)):
        own = rows[starts[i] : starts[i + 1]]
        want = (vectors[own] @ vectors[label]).max() if own.size else -np.inf
        assert got[e] == pytest.approx(want, abs=1e-6)
    assert np.isneginf(got[owner == 1]).all()
    assert (
        explain.nearest_cosines(vectors, labels[:0], owner[:0], rows, starts).size == 0
    )


def test_closest_first_orders_by_pair_then_nearness_then_given_order():
    rng = np.random.default_rng(0)
    pair = np.sort(rng.integers(0, 50, 2_000))
    # Few distinct values, so that ties are many.
    nearness = rng.choice(np.float32([0.5, 0.6, 0.6000001, 0.75, 1.0]), 2_000)
    expected = np.lexsort((-nearness, pair))
    np.testing.assert_array_equal(explain.closest_first(pair, nearness), expected)
    # Pair numbers too large for the float64 key take the plain sort.
    far = pair + (1 << 27)
    np.testing.assert_array_equal(explain.closest_first(far, nearness), expected)


@pytest.mark.parametrize("seed", range(3))
def test_skill_lists_rank_alike_with_or_without_the_offers_raw_characters(seed):
    # Needs that all read as skill lists read no raw characters, so a call
    # that ranks only them leaves the offers' TF-IDF rows out: the matches
    # equal those against a full index, and those of fitting and ranking in
    # one call.
    needs, offers = _instance(seed, n_needs=40)
    needs = [n for n in needs if reads_as_skill_list(n)]
    assert needs
    ranker = Ranker(candidates=1).fit([*needs, *offers])
    full = _ids_and_scores(ranker.rank(needs, ranker.index(offers), k=3))
    lean = ranker._offer_index(offers, raw=False)
    assert lean.side.chars is None and ranker.index(offers).side.chars is not None
    assert _ids_and_scores(ranker.rank(needs, lean, k=3)) == full
    assert _ids_and_scores(ranker.rank(needs, offers, k=3)) == full
    assert _ids_and_scores(Ranker(candidates=1).fit_rank(needs, offers, k=3)) == full


def test_kth_best_is_each_rows_kth_score():
    rng = np.random.default_rng(9)
    row = rng.integers(0, 30, size=500)
    score = np.round(rng.random(500), 3)
    got = score_module.kth_best(row, score, 32, 4)
    for r in range(32):
        mine = np.sort(score[row == r])[::-1]
        assert got[r] == (mine[3] if mine.size >= 4 else -np.inf)
