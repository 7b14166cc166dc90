"""The vector index's sync after a burst of writes (the sweep after a bulk load):
the rows it holds are not fetched again with their vectors by every later call,
a row that committed late with an older stamp is still found, and the catch-up
sweep indexes every proposal once, batch after batch."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from proposals import embeddings, services, similarity
from proposals.models import SimilarityVector
from tests.factories import ProposalFactory

pytestmark = pytest.mark.django_db


def _vector(seed: int) -> bytes:
    vector = np.random.default_rng(seed).standard_normal(embeddings.DIMENSIONS)
    return embeddings.to_bytes(vector / np.linalg.norm(vector))


def _row(alice, seed: int, stamp: dt.datetime) -> SimilarityVector:
    proposal = ProposalFactory.create(submitter=alice)
    return SimilarityVector.objects.create(
        proposal=proposal, vector=_vector(seed), digest=str(seed), updated_at=stamp
    )


def _sync(index: similarity.VectorIndex, monkeypatch, at: dt.datetime) -> list[str]:
    monkeypatch.setattr(similarity.timezone, "now", lambda: at)
    with CaptureQueriesContext(connection) as captured:
        index.sync()
    return [q["sql"] for q in captured]


def test_a_burst_is_not_fetched_again_and_a_late_row_is_found(alice, monkeypatch):
    burst = timezone.now() - dt.timedelta(minutes=5)
    for seed in range(3):
        _row(alice, seed, burst)
    index = similarity.VectorIndex()
    assert len(_sync(index, monkeypatch, burst + dt.timedelta(seconds=1))) == 1
    assert len(index) == 3

    # Within the overlap: the burst comes back as keys and stamps, not vectors.
    added: list[int] = []
    real_add = index._add

    def add(rows: list[tuple[int, object, object, object, dt.datetime]]) -> None:
        added.extend(row[0] for row in rows)
        real_add(rows)  # type: ignore[arg-type]

    monkeypatch.setattr(index, "_add", add)
    assert len(_sync(index, monkeypatch, burst + dt.timedelta(seconds=2))) == 1
    assert added == []

    # A row stamped with the burst that committed after the last look: fetched.
    late = _row(alice, 9, burst)
    assert len(_sync(index, monkeypatch, burst + dt.timedelta(seconds=3))) == 2
    assert added == [late.pk]
    assert len(index) == 4

    # A row written since: fetched with its vector, in the one query.
    newer = _row(alice, 10, burst + dt.timedelta(seconds=4))
    assert len(_sync(index, monkeypatch, burst + dt.timedelta(seconds=5))) == 1
    assert added == [late.pk, newer.pk]

    # Past the overlap, nothing of the burst is read at all.
    added.clear()
    assert len(_sync(index, monkeypatch, burst + dt.timedelta(minutes=2))) == 1
    assert len(_sync(index, monkeypatch, burst + dt.timedelta(minutes=3))) == 1
    assert added == []
    assert len(index) == 5


def test_the_catch_up_indexes_every_proposal_once_batch_after_batch(alice):
    made = {ProposalFactory.create(submitter=alice).pk for _ in range(7)}

    assert services.similarity_catch_up(batch=2) == 7
    assert (
        set(
            SimilarityVector.objects.filter(outcome__isnull=True).values_list(
                "proposal_id", flat=True
            )
        )
        == made
    )
    assert services.similarity_catch_up(batch=2) == 0
