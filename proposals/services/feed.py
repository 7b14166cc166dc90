"""The change feed's log kept to a bounded size: compaction, run daily by beat.

The log (`ProposalChange`, written by triggers) would otherwise grow with every
change for as long as the service runs. Rows older than
API_CHANGES_RETENTION_DAYS are deleted, except each proposal's latest row, so
a follower that starts without a cursor is still sent every proposal it may see
(the feed's promise); the rows of proposals that no longer exist go too (a new
follower never saw them, so would not be told of their removal). A cursor that
old could have missed deleted rows, so the feed refuses it (410,
`cursor_expired`): see `api/changes.py`.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone

from proposals.models import Proposal, ProposalChange


def retention_cutoff(now: dt.datetime | None = None) -> dt.datetime:
    return (now or timezone.now()) - dt.timedelta(days=settings.API_CHANGES_RETENTION_DAYS)


@transaction.atomic
def change_log_compact(*, now: dt.datetime | None = None) -> int:
    """Delete log rows past the retention period that no follower can need; returns how many."""
    latest = ProposalChange.objects.values("proposal_id").annotate(last=Max("id")).values("last")
    old = ProposalChange.objects.filter(created_at__lt=retention_cutoff(now))
    superseded = ~Q(id__in=latest) | ~Q(proposal_id__in=Proposal.objects.values("pk"))
    deleted, _ = old.filter(superseded).delete()
    return deleted
