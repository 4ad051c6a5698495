"""How the search reads Swedish words: stems, compounds, occupations, typos."""

from moraspar.search import (
    OCCUPATION_MARK,
    TITLE_MARK,
    compound_parts,
    corrections,
    index_text,
    parse_query,
    stem,
)


def test_definite_forms_share_the_stem() -> None:
    assert stem("förskolan") == stem("förskola")
    assert stem("bageriet") == stem("bageri")
    assert stem("kvalitet") == "kvalitet"  # "-tet" words keep their ending


def test_compounds_split_into_known_words_most_telling_part_first() -> None:
    assert compound_parts("demensvård")[-1] == "vård"
    assert compound_parts("reception") == ()
    (term,) = parse_query("svetsarbete")
    assert term.parts[0] == stem("svets")


def test_posting_text_has_title_text_and_occupation_sections() -> None:
    text = index_text("APL hotellkök", "Vi lagar mat", ["matlagning"])
    title, rest = text.split(TITLE_MARK)
    body, occupations = rest.split(OCCUPATION_MARK)
    assert " kök " in title and " hotell " in title
    assert " matlagning " in body
    assert " kock " in occupations  # SSYK 5120 Kockar och kallskänkor
    # Accents are kept, and the folded form is stored beside them.
    assert " hotellkok " in title


def test_only_unknown_long_words_are_corrected() -> None:
    assert corrections("elektiker") == (stem("elektriker"),)
    assert corrections("elektriker") == ()
    assert corrections("nusnas") == ()  # a place, typed without accents
    assert corrections("kok") == ()  # too short to guess
