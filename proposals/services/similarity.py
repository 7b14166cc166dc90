"""Keeping the similarity vectors current: written by the `similarity` worker only.

A proposal that is submitted or changed, and an outcome that is published, have
their vector (re)computed; services queue `index_similarity` on commit and the
beat sweep (`similarity_catch_up`) finds whatever a lost message or a bulk load
left behind, so the vectors converge without the request paying for the model.
Drafts are not indexed: nobody else may be shown them.
"""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from proposals import embeddings
from proposals.enums import Status
from proposals.models import Outcome, Proposal, SimilarityVector

# Proposals a sweep indexes at a time: one model call and a few queries each.
CATCH_UP_BATCH = 500


def _indexable() -> Q:
    return ~Q(status=Status.DRAFT)


def similarity_index(*, proposal_ids: Iterable[UUID | str]) -> int:
    """(Re)compute the vectors of these proposals and their published lessons; returns
    how many were written. Unchanged texts (same digest) are left alone, so running
    it twice does the work once."""
    ids = list(proposal_ids)
    proposals = list(Proposal.objects.filter(_indexable(), pk__in=ids))
    outcomes = list(
        Outcome.objects.filter(published=True, experiment__proposal__in=proposals).select_related(
            "experiment"
        )
    )
    by_pk = {proposal.pk: proposal for proposal in proposals}
    wanted: dict[tuple[UUID, int | None], str] = {
        (proposal.pk, None): embeddings.text_of_proposal(proposal) for proposal in proposals
    }
    for outcome in outcomes:
        proposal = by_pk[outcome.experiment.proposal_id]
        wanted[(proposal.pk, outcome.pk)] = embeddings.text_of_lesson(proposal, outcome)

    with transaction.atomic():
        existing = {
            (row.proposal_id, row.outcome_id): row
            for row in SimilarityVector.objects.select_for_update().filter(proposal_id__in=ids)
        }
        # Lessons unpublished since, and drafts (withdrawn back to draft), are dropped.
        stale = [row.pk for key, row in existing.items() if key not in wanted]
        SimilarityVector.objects.filter(pk__in=stale).delete()
        changed = {
            key: text
            for key, text in wanted.items()
            if key not in existing or existing[key].digest != embeddings.digest(text)
        }
        now = timezone.now()
        # Looked at now, so the sweep does not pick the same unchanged rows again.
        SimilarityVector.objects.filter(
            pk__in=[row.pk for key, row in existing.items() if key in wanted and key not in changed]
        ).update(updated_at=now)
        if not changed:
            return 0
        keys = list(changed)
        vectors = embeddings.embed([changed[key] for key in keys])
        rows = [
            SimilarityVector(
                pk=existing[key].pk if key in existing else None,
                proposal_id=key[0],
                outcome_id=key[1],
                vector=embeddings.to_bytes(vector),
                digest=embeddings.digest(changed[key]),
                updated_at=now,
            )
            for key, vector in zip(keys, vectors, strict=True)
        ]
        # A batch is two statements, not one a row: a bulk load indexes at thousands a second.
        SimilarityVector.objects.bulk_update(
            [row for row in rows if row.pk is not None], ["vector", "digest", "updated_at"]
        )
        SimilarityVector.objects.bulk_create([row for row in rows if row.pk is None])
        return len(keys)


def similarity_catch_up(*, batch: int = CATCH_UP_BATCH, batches: int | None = None) -> int:
    """Index what has no vector or changed since its vector was written; returns how
    many vectors were written. `batches` bounds one run (beat calls it often)."""
    written = 0
    done = 0
    # Each batch starts where the last stopped, in key order (the primary key's
    # index): started from the beginning every time, batch k re-read the k × batch
    # proposals indexed before it, quadratic in a bulk load (at 1,000,000, minutes).
    after: UUID | None = None
    while batches is None or done < batches:
        current = SimilarityVector.objects.filter(
            proposal=OuterRef("pk"), outcome__isnull=True, updated_at__gte=OuterRef("updated_at")
        )
        lesson_current = SimilarityVector.objects.filter(
            outcome=OuterRef("pk"), updated_at__gte=OuterRef("updated_at")
        )
        lesson_missing = Outcome.objects.filter(
            experiment__proposal=OuterRef("pk"), published=True
        ).exclude(Exists(lesson_current))
        stale = Proposal.objects.filter(_indexable()).filter(
            ~Exists(current) | Exists(lesson_missing)
        )
        if after is not None:
            stale = stale.filter(pk__gt=after)
        ids = list(stale.order_by("pk").values_list("pk", flat=True)[:batch])
        if not ids:
            break
        after = ids[-1]
        written += similarity_index(proposal_ids=ids)
        done += 1
        if len(ids) < batch:
            break
    return written
