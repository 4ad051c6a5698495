import io
import json
import zipfile

import numpy as np
import pytest

import matching
from matching import (
    InvalidModelFile,
    MatchingError,
    Posting,
    UnsupportedModelVersion,
    Weights,
)

FIELDS = [
    ["Svetsning", "MIG-svetsning", "Plåtslageri", "Lödning", "Ritningsläsning"],
    ["Omvårdnad", "Läkemedelshantering", "Hygienrutiner", "Demensvård"],
    ["Matlagning", "Bakning", "Livsmedelshygien", "Menyplanering", "Kallskänk"],
]


def _postings(prefix, n, seed):
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        field = FIELDS[i % len(FIELDS)]
        picked = rng.choice(len(field), 3, replace=False)
        out.append(
            Posting(
                f"{prefix}{i}",
                "apl",
                f"Plats {i}",
                skills=tuple(field[j] for j in sorted(picked)),
                count=int(rng.integers(1, 4)),
            )
        )
    return out


def _flat(ranked):
    return {
        n: [(m.offer_id, m.score, m.parts["text"], m.reasons) for m in ms]
        for n, ms in ranked.items()
    }


@pytest.fixture(scope="module")
def corpus():
    needs = _postings("n", 30, 1)
    offers = _postings("o", 60, 2)
    return needs, offers


@pytest.fixture(scope="module")
def model(corpus):
    needs, offers = corpus
    return matching.fit([*needs, *offers], vocabulary=["Truckkort", "Svetsning"])


def test_saved_model_ranks_exactly_as_the_fitted_one(model, corpus, tmp_path):
    needs, offers = corpus
    path = tmp_path / "model.npz"
    model.save(path)
    loaded = matching.load_model(path)
    assert loaded.weights_ == model.weights_
    assert _flat(loaded.rank(needs, offers, k=5)) == _flat(
        model.rank(needs, offers, k=5)
    )


def test_a_model_saved_with_given_weights_keeps_them(corpus, tmp_path):
    needs, offers = corpus
    w = Weights(latent=0.5, paired=0.0, chars=0.5)
    model = matching.fit([*needs, *offers], weights=w)
    model.save(tmp_path / "m.npz")
    loaded = matching.load_model(tmp_path / "m.npz")
    assert loaded.weights == w
    assert _flat(loaded.rank(needs, offers)) == _flat(model.rank(needs, offers))


def test_ranking_with_a_fitted_model_never_refits(model, corpus, monkeypatch):
    needs, _ = corpus
    unseen = [
        Posting("new-weld", "apl", "Svetsverkstad", skills=("MIG-svetsning",)),
        Posting("new-cook", "apl", "Restaurang", skills=("Matlagning", "Bakning")),
    ]

    def refit(*args, **kwargs):
        raise AssertionError("ranking refitted the model")

    monkeypatch.setattr(matching.Ranker, "_fit", refit)
    monkeypatch.setattr(matching.text.CharNgrams, "fit", refit)
    ranked = model.rank(needs[:3], unseen, k=2)
    # n0 is a welding need, n1 a care need, n2 a cooking need.
    assert ranked["n0"][0].offer_id == "new-weld"
    assert ranked["n2"][0].offer_id == "new-cook"


def test_vocabulary_labels_are_known_to_the_model(corpus):
    needs, offers = corpus
    without = matching.fit([*needs, *offers])
    with_ = matching.fit([*needs, *offers], vocabulary=["Truckkort"])
    assert " tr" in with_.chars_.vocabulary_ and "ruck" in with_.chars_.vocabulary_
    assert "ruck" not in without.chars_.vocabulary_


def test_vocabulary_must_be_labels(corpus):
    with pytest.raises(MatchingError):
        matching.fit(corpus[0], vocabulary="Svetsning")


def _rewrite(path, change):
    """Rewrite the model file at `path` with `change(header, arrays)` applied."""
    with np.load(path) as archive:
        arrays = {name: archive[name] for name in archive.files}
    header = json.loads(arrays.pop("header").tobytes())
    change(header, arrays)
    encoded = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    np.savez(path, header=encoded, **arrays)


def test_another_format_version_is_refused_by_name(model, tmp_path):
    path = tmp_path / "m.npz"
    model.save(path)
    _rewrite(path, lambda header, arrays: header.update(version=999))
    with pytest.raises(UnsupportedModelVersion, match="999") as caught:
        matching.load_model(path)
    assert caught.value.version == 999
    assert isinstance(caught.value, InvalidModelFile)


@pytest.mark.parametrize(
    "damage",
    [
        lambda path: path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2]),
        lambda path: path.write_bytes(b"not a model at all"),
        lambda path: path.unlink(),
        lambda path: _rewrite(path, lambda h, a: a.pop("idf")),
        lambda path: _rewrite(path, lambda h, a: a.update(idf=a["idf"][:-1])),
        lambda path: _rewrite(path, lambda h, a: h.update(format="something else")),
        lambda path: _rewrite(path, lambda h, a: h["weights"].update(text=-1.0)),
        lambda path: _rewrite(path, lambda h, a: h["params"].update(hub_k="many")),
        lambda path: _rewrite(
            path, lambda h, a: a.update(latent_columns=a["latent_columns"] * np.nan)
        ),
    ],
    ids=[
        "truncated",
        "not-npz",
        "missing",
        "no-idf",
        "short-idf",
        "format",
        "weights",
        "params",
        "nan",
    ],
)
def test_a_damaged_file_raises_a_named_error(model, tmp_path, damage):
    path = tmp_path / "m.npz"
    model.save(path)
    damage(path)
    with pytest.raises(InvalidModelFile):
        matching.load_model(path)


def test_a_file_with_pickled_arrays_is_refused_without_unpickling(model, tmp_path):
    path = tmp_path / "m.npz"
    model.save(path)
    with np.load(path) as archive:
        arrays = {name: archive[name] for name in archive.files}
    arrays["grams"] = np.array([object()], dtype=object)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    path.write_bytes(buffer.getvalue())
    assert zipfile.is_zipfile(path)
    with pytest.raises(InvalidModelFile):
        matching.load_model(path)


def test_an_unfitted_model_cannot_be_saved(tmp_path):
    with pytest.raises(MatchingError):
        matching.Ranker().save(tmp_path / "m.npz")
