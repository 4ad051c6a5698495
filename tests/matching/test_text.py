import numpy as np
import pytest
import scipy.sparse as sp

from matching.text import CharNgrams, LatentSpace, l2_rows

DOCS = [
    ("Svetsare", "MIG- och TIG-svetsning, svetsning i rostfritt", "Svetsning"),
    ("Kock", "matlagning, bakning och kall kök", "Matlagning", "Bakning"),
    ("Fordonstekniker", "fordonsteknik, felsökning av fordon", "Felsökning"),
    ("Undersköterska", "omvårdnad och dokumentation", "Omvårdnad"),
    ("Lagerarbetare", "truckkort, plock och pack i lager", "Truckkort"),
    ("Elektriker", "elinstallation, elinstallationer i bostäder", "El"),
    ("", "", "Svetsning", "Svetsning, MIG"),
    ("", "", ""),
]


@pytest.fixture
def fitted():
    chars = CharNgrams(3, 4, sublinear_tf=True)
    read = chars.fit(DOCS)
    latent = LatentSpace(5).fit_rows(chars.weigh(read))
    return chars, read, latent


def test_projection_equals_the_product_of_the_tfidf_rows(fitted):
    chars, read, latent = fitted
    # Repeated n-grams within a document ("svetsning" twice) take the
    # correction path; the empty document stays zero.
    direct = latent.project(chars.weigh(read))
    projected = chars.projector(latent.columns_)(read)
    assert projected.shape == direct.shape
    np.testing.assert_allclose(projected, direct, atol=1e-5)
    assert not projected[-1].any()


def test_projection_leaves_the_counts_as_they_were(fitted):
    chars, read, latent = fitted
    before = read.counts.copy()
    project = chars.projector(latent.columns_)
    first = project(read)
    assert (read.counts != before).nnz == 0
    np.testing.assert_array_equal(project(read), first)


def test_rows_keep_each_documents_counts(fitted):
    chars, read, _ = fitted
    picked = read.rows([3, 0])
    assert len(picked) == 2
    again = chars.read([DOCS[3], DOCS[0]])
    assert (picked.counts != again.counts).nnz == 0


def test_unseen_ngrams_are_dropped(fitted):
    chars, _, latent = fitted
    read = chars.read([("qqqq xxxx",)])
    assert read.counts.nnz == 0
    assert not chars.projector(latent.columns_)(read).any()


def test_projection_in_blocks_equals_one_block(fitted, monkeypatch):
    import matching.text

    chars, read, latent = fitted
    whole = chars.projector(latent.columns_)(read)
    monkeypatch.setattr(matching.text, "_BLOCK_ROWS", 3)
    np.testing.assert_array_equal(chars.projector(latent.columns_)(read), whole)


def test_idf_counted_in_blocks_equals_one_count(monkeypatch):
    import matching.text

    whole = CharNgrams(3, 4, sublinear_tf=True)
    read = whole.fit(DOCS)
    counts = read.counts
    df = np.bincount(counts.indices, minlength=counts.shape[1])
    np.testing.assert_array_equal(
        whole.idf_, (np.log((1.0 + len(DOCS)) / (1.0 + df)) + 1.0).astype(np.float32)
    )
    # Blocks of 3 documents, on two threads.
    monkeypatch.setattr(matching.text, "_BLOCK_ROWS", 3)
    blocks = CharNgrams(3, 4, sublinear_tf=True)
    blocks.fit(DOCS)
    np.testing.assert_array_equal(blocks.idf_, whole.idf_)


def test_counts_of_some_rows_are_those_rows_of_the_counts(fitted):
    _, read, _ = fitted
    counts = read.counts
    part = read.counts_of(range(2, 5))
    assert (part != counts[2:5]).nnz == 0
    np.testing.assert_array_equal(part.indices, counts[2:5].indices)


@pytest.mark.parametrize("share", [50, 4, 1])
def test_dense_product_equals_the_sparse_one(fitted, monkeypatch, share):
    import matching.text
    from matching.text import dense_product

    chars, read, _ = fitted
    x = chars.weigh(read)
    # 50: every n-gram of these few rows counts as common; 4: only those of
    # more than a quarter of the rows; 1: none.
    monkeypatch.setattr(matching.text, "_COMMON_SHARE", share)
    np.testing.assert_allclose(dense_product(x, x), (x @ x.T).toarray(), atol=1e-6)
    other = chars.transform([("svetsning och bakning",), ("",)])
    np.testing.assert_allclose(
        dense_product(x, other), (x @ other.T).toarray(), atol=1e-6
    )


def test_l2_rows_scales_each_stored_row_and_leaves_empty_rows_empty():
    dense = np.array(
        [[0, 0, 0], [3, 0, 4], [0, 0, 0], [0, 2, 0], [1, 1, 1], [0, 0, 0]],
        dtype=np.float32,
    )
    got = l2_rows(sp.csr_matrix(dense)).toarray()
    norms = np.linalg.norm(dense, axis=1, keepdims=True)
    want = np.divide(dense, norms, out=np.zeros_like(dense), where=norms > 0)
    np.testing.assert_allclose(got, want, rtol=1e-6)
