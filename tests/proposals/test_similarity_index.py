"""The inverted file behind `VectorIndex` past APPROXIMATE_FROM vectors: it finds
what exact search finds, stays in step as rows are added and changed, and is the
same index for the same rows, whatever order they were loaded in."""

from __future__ import annotations

import datetime as dt
import uuid

import numpy as np
import pytest

from proposals import embeddings, similarity

SIZE = 12_000
STAMP = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _small_threshold(monkeypatch) -> None:
    # The real threshold is 100,000 rows; the behaviour is the same at 12,000.
    monkeypatch.setattr(similarity, "APPROXIMATE_FROM", 5_000)


def _clustered(count: int, seed: int = 0, centres: int = 60) -> np.ndarray:
    """Unit vectors around random centres, like texts about a few hundred topics."""
    generator = np.random.default_rng(seed)
    middle = generator.standard_normal((centres, embeddings.DIMENSIONS))
    vectors = middle[generator.integers(0, centres, count)]
    vectors = vectors + 0.5 * generator.standard_normal(vectors.shape)
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)


def _rows(vectors: np.ndarray, first_pk: int = 1, stamp: dt.datetime = STAMP) -> list:
    return [
        (first_pk + n, uuid.UUID(int=first_pk + n), None, embeddings.to_bytes(vector), stamp)
        for n, vector in enumerate(vectors)
    ]


def _index(rows: list) -> similarity.VectorIndex:
    index = similarity.VectorIndex()
    index._add(rows)
    index._maintain()
    return index


def _exact(vectors: np.ndarray, query: np.ndarray, limit: int) -> set[uuid.UUID]:
    scores = vectors @ query
    return {uuid.UUID(int=1 + int(i)) for i in np.argsort(-scores)[:limit]}


def _stored(vectors: np.ndarray) -> np.ndarray:
    # What the index holds: the float16 of the database, as float32.
    return embeddings.matrix_from_bytes([embeddings.to_bytes(vector) for vector in vectors])


def test_small_indexes_stay_exact(monkeypatch):
    monkeypatch.setattr(similarity, "APPROXIMATE_FROM", SIZE + 1)
    vectors = _clustered(SIZE)
    index = _index(_rows(vectors))
    assert index._offsets is None
    query = vectors[3]
    found = {pk for pk, _, _ in index.nearest(query, 200)}
    assert found == _exact(_stored(vectors), query, 200)


def test_recall_against_exact_search():
    vectors = _clustered(SIZE)
    index = _index(_rows(vectors))
    assert index._offsets is not None
    held = _stored(vectors)
    # Queries from the data and new texts near it (a draft is not yet in the index).
    generator = np.random.default_rng(7)
    queries = list(vectors[generator.choice(SIZE, 30, replace=False)])
    for query in _clustered(30, seed=1):
        queries.append(query)
    recall_200, recall_10 = [], []
    for query in queries:
        found = [pk for pk, _, _ in index.nearest(query, similarity.CANDIDATES)]
        assert len(found) == similarity.CANDIDATES
        recall_200.append(len(set(found) & _exact(held, query, 200)) / 200)
        recall_10.append(len(set(found[:10]) & _exact(held, query, 10)) / 10)
    # Measured 0.96 and 0.995 (Gaussian clusters overlap more than texts do: on the
    # seeded database recall@200 was over 0.99).
    assert np.mean(recall_200) >= 0.93
    assert np.mean(recall_10) >= 0.98


def test_rows_unlike_the_rest_are_found_whatever_clusters_are_probed():
    vectors = _clustered(SIZE)
    odd = np.random.default_rng(5).standard_normal((20, embeddings.DIMENSIONS))
    odd = (odd / np.linalg.norm(odd, axis=1, keepdims=True)).astype(np.float32)
    index = _index(_rows(np.vstack([vectors, odd])))
    assert index._offsets is not None and index._centroids is not None
    outliers = [
        index._lists[index._row_of[SIZE + 1 + n]] == len(index._centroids) for n in range(20)
    ]
    assert sum(outliers) >= 15  # k-means may give one a cluster of its own
    for n, vector in enumerate(odd):
        # A draft that says the same thing in other words: nearer it than anything else.
        draft = vector + 0.6 * vectors[n]
        draft /= np.linalg.norm(draft)
        assert index.nearest(draft, 1)[0][0] == uuid.UUID(int=SIZE + 1 + n)


def test_the_scores_are_the_exact_cosines_in_order():
    vectors = _clustered(SIZE)
    index = _index(_rows(vectors))
    found = index.nearest(vectors[11], 20)
    held = _stored(vectors)
    scores = [score for _, _, score in found]
    assert scores == sorted(scores, reverse=True)
    for pk, _, score in found:
        assert score == pytest.approx(float(held[pk.int - 1] @ vectors[11]), abs=1e-5)
    assert found[0][0] == uuid.UUID(int=12)


def test_added_and_changed_rows_are_found_before_and_after_the_next_sort():
    vectors = _clustered(SIZE)
    index = _index(_rows(vectors))
    # A new row, and an old row given a new vector (its text changed), far from
    # where they were: both are loose until the next sort, and found.
    new = _clustered(1, seed=9)[0]
    moved = _clustered(1, seed=10)[0]
    later = STAMP + dt.timedelta(minutes=1)
    index._add([*_rows(new[None], first_pk=SIZE + 1, stamp=later), *_rows(moved[None], 5, later)])
    index._maintain()
    assert index._sorted == SIZE  # too few to sort again
    assert index.nearest(new, 1)[0][0] == uuid.UUID(int=SIZE + 1)
    assert index.nearest(moved, 1)[0][0] == uuid.UUID(int=5)
    # No row is a candidate twice (its old cluster's slice and the loose rows).
    everything = [pk for pk, _, _ in index.nearest(moved, 5_000)]
    assert len(everything) == len(set(everything))

    # Enough new rows to sort again: every row is in a cluster and still found.
    more = _clustered(1_000, seed=11)
    index._add(_rows(more, first_pk=SIZE + 2, stamp=later))
    index._maintain()
    assert index._sorted == len(index) == SIZE + 1_001
    assert not index._changed
    assert index.nearest(moved, 1)[0][0] == uuid.UUID(int=5)
    assert index.nearest(more[0], 1)[0][0] == uuid.UUID(int=SIZE + 2)
    assert index.cosine(moved, {uuid.UUID(int=5)}) == {
        uuid.UUID(int=5): pytest.approx(float(_stored(moved[None])[0] @ moved), abs=1e-5)
    }


def test_a_full_reload_keeps_the_clusters_and_drops_removed_rows():
    vectors = _clustered(SIZE)
    rows = _rows(vectors)
    index = _index(rows)
    centroids = index._centroids
    carried = similarity._Carried(
        index._row_of, index._stamps, index._lists, index._sorted, index._changed
    )
    by_pk = dict(zip(index._pks, index._lists.tolist(), strict=True))
    # The reload finds every row but the first (deleted since).
    index._clear()
    index._add(rows[1:])
    index._maintain(carried)
    assert index._centroids is centroids
    assert len(index) == SIZE - 1
    assert dict(zip(index._pks, index._lists.tolist(), strict=True)) == {
        pk: cluster for pk, cluster in by_pk.items() if pk != 1
    }
    assert uuid.UUID(int=1) not in {pk for pk, _, _ in index.nearest(vectors[0], 200)}


def test_the_same_rows_make_the_same_index_in_any_order():
    vectors = _clustered(SIZE)
    rows = _rows(vectors)
    first = _index(rows)
    second = _index(list(reversed(rows)))
    assert first._centroids is not None and second._centroids is not None
    assert np.array_equal(first._centroids, second._centroids)
    assert dict(zip(first._pks, first._lists.tolist(), strict=True)) == dict(
        zip(second._pks, second._lists.tolist(), strict=True)
    )
    # The same rows with the same scores (the last bits of a float32 dot product
    # depend on where the row sits in the matrix).
    one, two = first.nearest(vectors[42], 50), second.nearest(vectors[42], 50)
    assert [pk for pk, _, _ in one] == [pk for pk, _, _ in two]
    assert [score for _, _, score in one] == pytest.approx([score for _, _, score in two])
