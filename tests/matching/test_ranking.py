import math
import random
from datetime import date, datetime

import pytest

from matching import (
    InvalidArgument,
    Match,
    MatchingError,
    Posting,
    Ranker,
    Reason,
    Weights,
    rank,
)
from matching.ranking import reads_as_skill_list

MORA = (61.004, 14.537)


def need(id_="n", **kw):
    kw.setdefault("kind", "apl")
    kw.setdefault("title", "Fordonsteknik")
    return Posting(id_, **kw)


def offer(id_, **kw):
    kw.setdefault("kind", "apl")
    kw.setdefault("title", "Verkstad")
    return Posting(id_, **kw)


def ids(matches):
    return [m.offer_id for m in matches]


def test_every_need_is_present_even_without_matches():
    needs = [need("a"), need("b", kind="prao")]
    result = rank(needs, [offer("o")])
    assert set(result) == {"a", "b"}
    assert ids(result["a"]) == ["o"]
    assert result["b"] == []


def test_empty_inputs():
    assert rank([], []) == {}
    assert rank([need("a")], []) == {"a": []}
    assert rank([], [offer("o")]) == {}


def test_kinds_must_be_equal():
    result = rank([need(kind="apl")], [offer("x", kind="prao"), offer("y")])
    assert ids(result["n"]) == ["y"]


@pytest.mark.parametrize(
    ("need_period", "offer_period", "kept"),
    [
        (
            (date(2025, 3, 1), date(2025, 3, 31)),
            (date(2025, 4, 1), date(2025, 4, 9)),
            False,
        ),
        (
            (date(2025, 3, 1), date(2025, 3, 31)),
            (date(2025, 3, 31), date(2025, 4, 9)),
            True,
        ),
        ((date(2025, 3, 1), date(2025, 3, 31)), (None, date(2025, 2, 1)), False),
        ((date(2025, 3, 1), date(2025, 3, 31)), (None, date(2025, 3, 1)), True),
        ((date(2025, 3, 1), None), (date(2020, 1, 1), date(2020, 2, 1)), False),
        ((None, None), (date(2020, 1, 1), date(2020, 2, 1)), True),
        ((date(2025, 3, 1), date(2025, 3, 31)), (None, None), True),
    ],
)
def test_periods_must_overlap_where_known(need_period, offer_period, kept):
    n = need(start=need_period[0], end=need_period[1])
    o = offer("o", start=offer_period[0], end=offer_period[1])
    assert (rank([n], [o])["n"] != []) is kept


def test_distance_limit_applies_only_with_both_positions():
    n = need(lat=MORA[0], lon=MORA[1], max_km=30.0)
    near = offer("near", lat=61.1, lon=14.6)  # about 11 km
    far = offer("far", lat=60.6, lon=15.6)  # Falun, about 70 km
    unknown = offer("unknown")
    got = ids(rank([n], [near, far, unknown])["n"])
    assert sorted(got) == ["near", "unknown"]
    no_limit = need(lat=MORA[0], lon=MORA[1])
    assert sorted(ids(rank([no_limit], [near, far])["n"])) == ["far", "near"]


def test_zero_radius_keeps_same_place_only():
    n = need(lat=MORA[0], lon=MORA[1], max_km=0.0)
    same = offer("same", lat=MORA[0], lon=MORA[1])
    other = offer("other", lat=61.01, lon=14.54)
    assert ids(rank([n], [same, other])["n"]) == ["same"]


def test_text_similarity_handles_swedish_compounds_and_inflections():
    n = need(
        title="", text="Vi söker svetsare till vår verkstad", skills=("Svetsning",)
    )
    offers = [
        offer("weld", title="Svetsarbete", text="Svetsning av stålkonstruktioner"),
        offer("care", title="Äldreomsorg", text="Omvårdnad på äldreboende"),
        offer("shop", title="Butik", text="Kassa och kundservice"),
    ]
    assert ids(rank([n], offers)["n"])[0] == "weld"


def test_nearer_is_better_when_text_is_equal():
    n = need(lat=MORA[0], lon=MORA[1], skills=("Svetsning",))
    near = offer("b-near", skills=("Svetsning",), lat=61.01, lon=14.54)
    far = offer("a-far", skills=("Svetsning",), lat=61.4, lon=15.2)
    got = rank([n], [far, near])["n"]
    assert ids(got) == ["b-near", "a-far"]
    assert got[0].parts["distance"] > got[1].parts["distance"]


def test_longer_overlap_is_better_when_text_is_equal():
    n = need(start=date(2025, 3, 3), end=date(2025, 3, 30))
    short = offer("a-short", start=date(2025, 3, 24), end=date(2025, 5, 1))
    full = offer("b-full", start=date(2025, 3, 1), end=date(2025, 4, 1))
    got = rank([n], [short, full])["n"]
    assert ids(got) == ["b-full", "a-short"]
    assert got[0].parts["period"] == 1.0
    assert got[1].parts["period"] == pytest.approx(7 / 28)


def test_more_free_places_is_better_when_text_is_equal():
    n = need(count=4)
    few = offer("a-few", count=1)
    enough = offer("b-enough", count=4)
    got = rank([n], [few, enough])["n"]
    assert ids(got) == ["b-enough", "a-few"]
    assert got[1].parts["capacity"] == 0.25


def test_ties_break_by_offer_id_and_k_limits():
    offers = [offer(f"o{i:02d}") for i in range(30)]
    random.Random(1).shuffle(offers)
    got = rank([need()], offers, k=5)["n"]
    assert ids(got) == ["o00", "o01", "o02", "o03", "o04"]
    assert len({m.score for m in got}) == 1


def test_scores_parts_and_order():
    n = need(skills=("Svetsning", "Truckkort"), lat=MORA[0], lon=MORA[1], count=2)
    offers = [
        offer(f"o{i}", title=t, skills=s, lat=61.0 + i / 100, lon=14.5, count=i + 1)
        for i, (t, s) in enumerate(
            [("Verkstad", ("Svetsning",)), ("Lager", ("Truckkort",)), ("Kök", ())]
        )
    ]
    got = rank([n], offers)["n"]
    assert len(got) == 3
    assert all(isinstance(m, Match) and 0.0 <= m.score <= 1.0 for m in got)
    assert [m.score for m in got] == sorted((m.score for m in got), reverse=True)
    for m in got:
        assert set(m.parts) == {"text", "skills", "period", "distance", "capacity"}
        assert all(0.0 <= v <= 1.0 for v in m.parts.values())
    with pytest.raises(TypeError):
        got[0].parts["text"] = 1.0  # type: ignore[index]


def test_reasons_are_structured_data():
    n = need(
        skills=("Svetsning", "Truckkort"),
        lat=MORA[0],
        lon=MORA[1],
        count=3,
        start=date(2025, 3, 3),
        end=date(2025, 3, 30),
        text="svetsare verkstad",
    )
    o = offer(
        "o",
        skills=("svetsning", "Lackering"),
        lat=61.1,
        lon=14.6,
        count=2,
        start=date(2025, 3, 17),
        end=date(2025, 6, 1),
        text="Verkstaden söker",
    )
    (m,) = rank([n], [o])["n"]
    by_code = {r.code: r for r in m.reasons}
    assert all(isinstance(r, Reason) for r in m.reasons)
    assert by_code["shared_skills"].values == ("svetsning",)
    assert by_code["distance_km"].value == pytest.approx(11.4, abs=0.5)
    assert by_code["overlap_weeks"].value == 2.0
    assert by_code["free_places"].value == 2
    assert "verkstad" in by_code["shared_terms"].values
    assert m.parts["skills"] == 0.5


def test_open_period_gives_any_time_reason():
    (m,) = rank([need()], [offer("o")])["n"]
    codes = [r.code for r in m.reasons]
    assert "any_time" in codes and "all_places" in codes


def test_weights_change_the_order():
    n = need(lat=MORA[0], lon=MORA[1], title="Svetsning")
    text_match = offer("text", title="Svetsning", lat=61.6, lon=14.5)
    near_only = offer("near", title="Bageri", lat=MORA[0], lon=MORA[1])
    assert ids(rank([n], [text_match, near_only])["n"])[0] == "text"
    distance_only = Weights(text=0.0, skills=0.0, period=0.0, capacity=0.0)
    got = rank([n], [text_match, near_only], weights=distance_only)["n"]
    assert ids(got)[0] == "near"


def test_deterministic_and_independent_of_input_order():
    rng = random.Random(3)
    words = ["svetsning", "truckkort", "vård", "kassa", "lager", "kock", "el", "it"]
    needs = [need(f"n{i}", skills=tuple(rng.sample(words, 3))) for i in range(6)]
    offers = [offer(f"o{i}", skills=tuple(rng.sample(words, 2))) for i in range(40)]
    first = rank(needs, offers, k=7)
    again = rank(needs, offers, k=7)
    shuffled = offers[:]
    rng.shuffle(shuffled)
    other = rank(needs, shuffled, k=7)
    assert {n: ids(m) for n, m in first.items()} == {
        n: ids(m) for n, m in again.items()
    }
    assert {n: ids(m) for n, m in first.items()} == {
        n: ids(m) for n, m in other.items()
    }
    for n_id in first:
        for a, b in zip(first[n_id], other[n_id], strict=True):
            assert math.isclose(a.score, b.score, abs_tol=1e-6)


def test_fitted_ranker_can_be_reused():
    corpus = [offer("o1", title="Svetsning"), offer("o2", title="Kassa")]
    ranker = Ranker(random_state=0).fit(corpus)
    assert hasattr(ranker, "latent_")
    got = ranker.rank([need(title="svetsare")], corpus, k=1)
    assert ids(got["n"]) == ["o1"]


FIELDS = [
    ["svetsning", "plåtslageri", "CNC-bearbetning", "ritningsläsning", "lödning"],
    ["omvårdnad", "läkemedelshantering", "hygienrutiner", "dokumentation"],
    ["matlagning", "bakning", "livsmedelshygien", "menyplanering", "disk"],
]


def _corpus(seed=5, n=30, fields=FIELDS):
    """n postings of three skills each, every one from one of `fields`."""
    rng = random.Random(seed)
    return [
        Posting(f"p{i}", "apl", "", skills=tuple(rng.sample(f, 3)))
        for i, f in enumerate(rng.choice(fields) for _ in range(n))
    ]


def test_learned_text_mix_is_deterministic_and_a_proper_mix():
    corpus = _corpus()
    first = Ranker(random_state=1).fit(corpus).weights_
    again = Ranker(random_state=1).fit(list(reversed(corpus))).weights_
    assert first == again
    mix = first.text_mix()
    assert all(w >= 0 for w in mix)
    assert math.isclose(sum(mix), 1.0)


def test_self_supervised_fit_reads_only_the_postings_content():
    corpus = _corpus()
    renamed = [
        Posting(f"x{p.id}", p.kind, p.title, skills=p.skills, count=3) for p in corpus
    ]
    a = Ranker(random_state=0).fit(corpus)
    b = Ranker(random_state=0).fit(renamed)
    assert a.weights_ == b.weights_
    assert (a.paired_.projection_ == b.paired_.projection_).all()


def test_explicit_weights_are_used_as_given():
    w = Weights(latent=1.0, paired=0.0, chars=0.0)
    assert Ranker(weights=w).fit(_corpus()).weights_ is w


WELDING_FIELDS = [
    ["Svetsning", "MIG-svetsning", "TIG-svetsning", "Plåtslageri", "Lödning"],
    ["Omvårdnad", "Läkemedelshantering", "Hygienrutiner", "Demensvård"],
    ["Matlagning", "Bakning", "Livsmedelshygien", "Menyplanering", "Kallskänk"],
]


def _fields_corpus(n=60):
    return _corpus(n=n, fields=WELDING_FIELDS)


def test_related_skills_name_the_offers_close_labels_only():
    need_ = Posting("n", "apl", "", skills=("Svetsning", "Lödning"))
    weld = Posting("weld", "apl", "", skills=("TIG-svetsning", "Kallskänk", "Lödning"))
    ranker = Ranker().fit([*_fields_corpus(), need_, weld])
    (m,) = ranker.rank([need_], [weld])["n"]
    by_code = {r.code: r for r in m.reasons}
    assert by_code["shared_skills"].values == ("Lödning",)
    # A welding label is related to the need's welding; a kitchen one is not,
    # and a shared label is not repeated as related.
    assert by_code["related_skills"].values == ("TIG-svetsning",)


def test_neighbourhood_steps_wait_for_enough_postings():
    # Under 2 * k postings on the other side, expansion and hub penalty are off,
    # so a handful of offers ranks exactly as with both turned off.
    needs = [need(f"n{i}", skills=("Svetsning",)) for i in range(3)]
    offers = [offer(f"o{i}", title=t) for i, t in enumerate(["Svets", "Kök", "Vård"])]
    corpus = [*needs, *offers]
    on = Ranker().fit(corpus).rank(needs, offers)
    off = Ranker(expand_weight=0.0, hub_k=0).fit(corpus).rank(needs, offers)
    assert {n: [(m.offer_id, m.score) for m in ms] for n, ms in on.items()} == {
        n: [(m.offer_id, m.score) for m in ms] for n, ms in off.items()
    }


def test_hub_penalty_is_one_shift_per_offer():
    # The hub penalty moves an offer's text part by the same amount for every
    # need (it is a property of the offer), and not by zero for all of them.
    corpus = _fields_corpus(n=90)
    needs = [Posting(f"n{p.id}", "apl", "", skills=p.skills) for p in corpus[:30]]
    offers = corpus[30:]
    everything = [*needs, *offers]
    on = Ranker().fit(everything).rank(needs, offers, k=len(offers))
    off = Ranker(hub_k=0).fit(everything).rank(needs, offers, k=len(offers))
    shifts: dict[str, list[float]] = {}
    for n_id, matches in on.items():
        plain = {m.offer_id: m.parts["text"] for m in off[n_id]}
        for m in matches:
            t_on, t_off = m.parts["text"], plain[m.offer_id]
            if 0.0 < t_on < 1.0 and 0.0 < t_off < 1.0:  # not clipped
                shifts.setdefault(m.offer_id, []).append(t_on - t_off)
    assert shifts
    for values in shifts.values():
        assert max(values) - min(values) < 1e-4
    assert any(abs(v[0]) > 1e-3 for v in shifts.values())


@pytest.mark.parametrize(
    "params",
    [
        {"expand_k": -1},
        {"hub_k": 1.5},
        {"expand_weight": -0.1},
        {"expand_weight": float("nan")},
        {"n_components": 0},
        {"candidates": True},
    ],
)
def test_bad_ranker_parameters_raise_a_named_error(params):
    with pytest.raises(InvalidArgument):
        Ranker(**params).fit(_corpus())
    with pytest.raises(InvalidArgument):
        Ranker(**params).fit_rank([need()], [offer("o")])


# Regressions found in review: each would fail on the first two-stage version.


def test_equal_texts_keep_the_nearest_and_the_lowest_ids():
    offers = [
        Posting(
            f"o{i:03d}",
            "apl",
            "Svetsare",
            "MIG- och TIG-svetsning i verkstad",
            lat=59.0,
            lon=18.0 + 0.01 * i,
        )
        for i in range(200)
    ]
    n = Posting("n", "apl", "Svetsare", "svetsning", lat=59.0, lon=18.0)
    assert ids(rank([n], offers, k=3)["n"]) == ["o000", "o001", "o002"]
    unplaced = [Posting(o.id, "apl", o.title, o.text) for o in offers]
    assert ids(rank([n], unplaced, k=3)["n"]) == ["o000", "o001", "o002"]


def test_search_is_exact_whatever_the_candidate_pool():
    rng = random.Random(7)
    offers = [
        Posting(
            f"d{i:03d}",
            "apl",
            rng.choice(["Svets", "Lager", "Kök"]),
            "svetsning och montering",
            lat=59.0 + rng.random() / 5,
            lon=18.0 + rng.random() / 5,
            count=rng.randint(1, 4),
        )
        for i in range(300)
    ]
    needs = [
        Posting(f"n{i}", "apl", "Svetsare", "svetsning", lat=59.1, lon=18.1, count=2)
        for i in range(3)
    ]
    corpus = [*needs, *offers]
    small = Ranker(candidates=1).fit(corpus).rank(needs, offers, k=10)
    every = Ranker(candidates=10**6).fit(corpus).rank(needs, offers, k=10)
    assert {n: ids(m) for n, m in small.items()} == {
        n: ids(m) for n, m in every.items()
    }


def test_search_is_exact_for_long_skill_lists_and_every_soft_part():
    # Long, overlapping skill lists give many offers of nearly the same text
    # score, so the period, distance and capacity parts decide: the widest
    # second stage, and the one where float32 and float64 cosines differ.
    rng = random.Random(11)
    pool = [s for field in FIELDS for s in field] + [
        f"{a} {b}" for a in ("grund", "fördjupad") for b in ("svetsning", "bakning")
    ]
    start = date(2026, 1, 1)

    def posting(id_, **kw):
        first = start.toordinal() + rng.randint(0, 200)
        return Posting(
            id_,
            "apl",
            "",
            skills=tuple(rng.sample(pool, rng.randint(6, 12))),
            start=date.fromordinal(first),
            end=date.fromordinal(first + rng.randint(7, 90)),
            lat=MORA[0] + rng.random() / 3,
            lon=MORA[1] + rng.random() / 3,
            count=rng.randint(1, 4),
            **kw,
        )

    offers = [posting(f"o{i:03d}") for i in range(400)]
    needs = [posting(f"n{i}", max_km=30.0) for i in range(25)]
    corpus = [*needs, *offers]
    small = Ranker(candidates=1).fit(corpus).rank(needs, offers, k=10)
    every = Ranker(candidates=10**6).fit(corpus).rank(needs, offers, k=10)
    assert {n: ids(m) for n, m in small.items()} == {
        n: ids(m) for n, m in every.items()
    }
    assert all(len(m) == 10 for m in small.values())
    scores = [m.score for ms in small.values() for m in ms]
    assert scores == [m.score for ms in every.values() for m in ms]


def test_raw_character_weights_rank_the_same_fitted_or_not():
    w = Weights(latent=0.0, paired=0.0, chars=1.0)
    needs = [
        Posting("n1", "apl", "Svetsare", "MIG-svetsning"),
        Posting("n2", "apl", "Kock", "matlagning"),
    ]
    offers = [
        Posting("o1", "apl", "Kök", "matlagning och bakning"),
        Posting("o2", "apl", "Verkstad", "svetsning och plåtslageri"),
        Posting("o3", "apl", "Lager", "truckkort"),
    ]
    at_once = rank(needs, offers, weights=w)
    fitted = Ranker(weights=w).fit([*needs, *offers]).rank(needs, offers)
    assert {n: ids(m) for n, m in at_once.items()} == {
        n: ids(m) for n, m in fitted.items()
    }
    assert ids(at_once["n1"])[0] == "o2"
    assert ids(at_once["n2"])[0] == "o1"
    for n, ms in at_once.items():
        for m, again in zip(ms, fitted[n], strict=True):
            assert math.isclose(m.parts["text"], again.parts["text"], abs_tol=1e-6)


def test_a_space_that_scores_everything_alike_is_not_chosen():
    corpus = [Posting("n", "apl", "Svetsare", "svetsning")] + [
        Posting(f"o{i:03d}", "apl", "Svetsare", "svetsning MIG") for i in range(120)
    ]
    ranker = Ranker().fit(corpus)
    (best,) = ranker.rank(corpus[:1], corpus[1:], k=1)["n"]
    assert best.parts["text"] > 0.5


def test_two_unrelated_postings_are_not_alike():
    got = rank(
        [Posting("n", "apl", "Svetsare", "svetsning MIG")],
        [Posting("o", "apl", "Kock", "matlagning bakning")],
    )["n"]
    assert got[0].parts["text"] < 0.5


def test_a_need_without_text_has_no_text_similarity():
    corpus = _fields_corpus()
    empty = Posting("empty", "apl", "", "")
    punctuation = Posting("dots", "apl", "...", "!?")
    got = (
        Ranker()
        .fit([*corpus, empty, punctuation])
        .rank([empty, punctuation], corpus, k=3)
    )
    assert all(m.parts["text"] == 0.0 for ms in got.values() for m in ms)


def test_offers_just_outside_the_radius_do_not_crowd_out_valid_ones():
    north = 10.0005 / 6371.0088 * 180 / math.pi  # 10.0005 km, in degrees
    n = Posting(
        "n", "apl", "Svetsare", "svetsning MIG TIG", lat=59.0, lon=18.0, max_km=10.0
    )
    outside = [
        Posting(
            f"a{i:02d}",
            "apl",
            "Svetsare",
            "svetsning MIG TIG",
            lat=59.0 + north,
            lon=18.0,
        )
        for i in range(60)
    ]
    inside = [
        Posting(f"b{i:02d}", "apl", "Kock", "matlagning", lat=59.01, lon=18.0)
        for i in range(20)
    ]
    got = rank([n], [*outside, *inside], k=10)["n"]
    assert len(got) == 10
    assert all(m.offer_id.startswith("b") for m in got)


def test_an_unlimited_radius_keeps_the_antipodes():
    rng = random.Random(2)
    points = [(rng.uniform(-80, 80), rng.uniform(-179, 179)) for _ in range(50)]
    needs = [
        Posting(f"n{i}", "apl", "Svets", lat=lat, lon=lon, max_km=1e9)
        for i, (lat, lon) in enumerate(points)
    ]
    offers = [
        Posting(
            f"o{i}", "apl", "Svets", lat=-lat, lon=lon - 180 if lon > 0 else lon + 180
        )
        for i, (lat, lon) in enumerate(points)
    ]
    got = rank(needs, offers, k=len(offers))
    assert all(len(ms) == len(offers) for ms in got.values())


def test_zero_radius_keeps_the_same_place_written_another_way():
    n = need(lat=10.0, lon=180.0, max_km=0.0)
    same = offer("same", lat=10.0, lon=-180.0)
    assert ids(rank([n], [same])["n"]) == ["same"]


def test_labels_without_letters_share_nothing():
    (m,) = rank([need(skills=("-", "Svetsning"))], [offer("o", skills=("*",))])["n"]
    assert m.parts["skills"] == 0.0
    assert "shared_skills" not in [r.code for r in m.reasons]


@pytest.mark.parametrize(
    "call",
    [
        lambda: Ranker().rank([need()], [offer("o")]),
        lambda: Ranker().fit(["not a posting"]),
        lambda: rank([need()], [offer("o")], weights={"text": 1.0}),
        lambda: Posting(
            "p", "apl", "", start=date(2025, 1, 1), end=datetime(2025, 2, 1, 12, 0)
        ),
        lambda: Weights(text=True),
        lambda: Weights(text=1e308, capacity=1e308),
    ],
)
def test_bad_input_raises_a_matching_error(call):
    with pytest.raises(MatchingError):
        call()


def test_the_text_mix_reads_the_postings_own_wording_beside_the_paired_space():
    # The paired space alone (what retrieval of one half from the other picks)
    # falls to the character baseline on short titles; the latent cosine of
    # the postings' own characters keeps half of the text score.
    m_latent, m_paired, m_chars = Ranker().fit(_corpus(n=60)).weights_.text_mix()
    assert m_latent == m_paired == 0.5
    assert m_chars == 0.0


def test_a_skill_list_need_reads_through_the_paired_space_more():
    corpus = _corpus(n=60)
    listed = Posting("need-list", "apl", "", skills=corpus[0].skills)
    titled = Posting("need-title", "apl", "Kök och servering", skills=("Bakning",))
    assert reads_as_skill_list(listed) and not reads_as_skill_list(titled)
    assert not reads_as_skill_list(
        Posting("x", "apl", "Lång text om allt " * 3, skills=("A", "B", "C"))
    )
    plain = {"expand_weight": 0, "hub_k": 0}

    def text_parts(ranker):
        got = ranker.fit(corpus).rank([listed, titled], corpus, k=len(corpus))
        return {n: {m.offer_id: m.parts["text"] for m in ms} for n, ms in got.items()}

    shaped = text_parts(Ranker(list_latent=0.25, **plain))
    assert shaped["need-list"] == pytest.approx(
        # (list_latent equal to the given mix: nothing to lean.)
        text_parts(
            Ranker(weights=Weights(latent=0.25, paired=0.75), list_latent=0.25, **plain)
        )["need-list"],
        abs=1e-6,
    )
    # A title reads its raw characters (text_chars) and the paired space.
    assert shaped["need-title"] == pytest.approx(
        text_parts(
            Ranker(
                weights=Weights(latent=0.0, paired=0.5, chars=0.5),
                text_chars=0.0,
                title_chars=0.0,
                **plain,
            )
        )["need-title"],
        abs=1e-6,
    )
    # Without text_chars, a title keeps the learned mix (half and half).
    assert text_parts(Ranker(list_latent=0.25, text_chars=0.0, **plain))[
        "need-title"
    ] == pytest.approx(
        text_parts(
            Ranker(weights=Weights(latent=0.5, paired=0.5), text_chars=0.0, **plain)
        )["need-title"],
        abs=1e-6,
    )
    with pytest.raises(InvalidArgument, match="list_latent"):
        Ranker(list_latent=1.5).fit(corpus)
    with pytest.raises(InvalidArgument, match="text_chars"):
        Ranker(text_chars=-0.1).fit(corpus)
    with pytest.raises(InvalidArgument, match="title_chars"):
        Ranker(title_chars=2).fit(corpus)


TITLES = (
    "Ventilationsplåtslagare",
    "Flygplåtslagare",
    "Fasadmontör",
    "Undersköterska, hemtjänst",
    "Undersköterska, akutsjukvård",
    "Barnskötare",
    "Elevassistent",
    "Fritidsledare",
    "Kock, restaurang",
    "Pizzabagare",
    "Bagare och konditor",
    "Frisör, barberare",
    "Hudterapeut",
    "Lastbilsförare, fjärrtrafik",
    "Bussförare, linjetrafik",
    "Truckförare, lager",
    "Snickare, bygg",
    "Träarbetare, inredning",
    "Elektriker, installation",
    "Drifttekniker, kraftvärme",
    "Sjuksköterska, geriatrik",
    "Butikssäljare, dagligvaror",
    "Kassapersonal, butik",
    "Lagerarbetare, terminal",
    "Skogsmaskinförare, avverkning",
    "Motorsågsförare, gallring",
    "Redovisningsekonom, byrå",
    "Lönekonsult, byrå",
)


def test_a_title_finds_the_titles_that_share_its_wording():
    # Occupation names relate through their heads ("plåtslagare"): the raw
    # characters carry that, which the latent and paired spaces of a corpus
    # of short titles blur.
    offers = [Posting(f"t{i}", "apl", t) for i, t in enumerate(TITLES)]
    need = Posting("need", "apl", "Tunnplåtslagare")

    def top_two(ranker):
        got = ranker.fit([need, *offers]).rank([need], offers, k=2)["need"]
        return {m.offer_id for m in got}

    assert top_two(Ranker()) == {"t0", "t1"}
