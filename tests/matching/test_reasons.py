import pytest

import matching
from matching import Posting, Ranker, rank, skill_key
from matching.stopwords import is_filler


def _codes(match):
    return {r.code: r for r in match.reasons}


def test_shared_terms_never_list_filler_words():
    need = Posting(
        "n",
        "apl",
        "Praktik inom svetsning",
        "Elever i årskurs 2 söker praktik under läsåret hos ett företag med "
        "svetsning och montering.",
    )
    offer = Posting(
        "o",
        "apl",
        "Svetsning på företaget",
        "Företaget tar emot elever under läsåret för svetsning och montering.",
    )
    (m,) = rank([need], [offer])["n"]
    assert _codes(m)["shared_terms"].values == ("svetsning", "montering")


def test_a_shared_skill_is_not_repeated_as_a_shared_term():
    need = Posting("n", "apl", "Svetsning", skills=("Svetsning",))
    offer = Posting("o", "apl", "Svetsning och lackering", skills=("svetsning",))
    (m,) = rank([need], [offer])["n"]
    reasons = _codes(m)
    assert reasons["shared_skills"].values == ("svetsning",)
    assert "shared_terms" not in reasons


@pytest.mark.parametrize(
    "word", ["och", "under", "Företaget", "läsåret", "elever", "PRAO", "2", "el"]
)
def test_filler_words(word):
    assert is_filler(word)


@pytest.mark.parametrize("word", ["svetsning", "truckkort", "omvårdnad", "kök"])
def test_words_that_tell_are_not_filler(word):
    assert not is_filler(word)


FIELDS = [
    ("Verkstad", ["Svetsning", "MIG-svetsning", "TIG-svetsning", "Plåtslageri"]),
    ("Vård", ["Omvårdnad", "Läkemedelshantering", "Hygienrutiner", "Demensvård"]),
    ("Kök", ["Matlagning", "Bakning", "Livsmedelshygien", "Kallskänk"]),
]


def test_related_skills_are_given_for_postings_with_titles_and_texts():
    corpus = [
        Posting(
            f"p{i}",
            "apl",
            title,
            f"Vi söker elever till {title.lower()}.",
            skills=tuple(skills[j] for j in range(4) if j != i % 4),
        )
        for i, (title, skills) in enumerate(FIELDS * 12)
    ]
    need = Posting(
        "n", "apl", "Svetsare", "Svetsning i verkstad", skills=("Svetsning",)
    )
    weld = Posting(
        "weld", "apl", "Verkstad", "Tunnplåt", skills=("MIG-svetsning", "Bakning")
    )
    model = Ranker().fit([*corpus, need, weld])
    (m,) = model.rank([need], [weld])["n"]
    assert _codes(m)["related_skills"].values == ("MIG-svetsning",)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Svetsning, MIG", "MIG-svetsning"),
        ("Truckkort", "  truckkort "),
        ("Lödning", "lödningar"),
        ("Å-kompetens", "å-kompetens"),
    ],
)
def test_skill_key_says_when_two_labels_are_one_skill(a, b):
    assert skill_key(a) == skill_key(b) != ""


def test_skill_key_keeps_different_skills_apart():
    assert skill_key("Svetsning") != skill_key("MIG-svetsning")
    assert skill_key("!!") == ""
    assert matching.skill_key is skill_key
