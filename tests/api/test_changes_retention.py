"""The change feed's log is kept bounded (proposals/services/feed.py): rows past
API_CHANGES_RETENTION_DAYS go, except each proposal's latest, so a follower
starting without a cursor still gets every proposal it may see; a cursor older
than the log keeps is refused with 410 `cursor_expired`, never silently short."""

from __future__ import annotations

import datetime as dt
import time
from urllib.parse import quote

import pytest
from django.core import signing
from django.utils import timezone

from proposals import services
from proposals.api.changes import _SALT
from proposals.models import Proposal, ProposalChange
from tests.api.feed import FeedFollower
from tests.factories import ProposalFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def _age(days: float) -> dt.datetime:
    return timezone.now() - dt.timedelta(days=days)


def test_compaction_keeps_each_proposals_latest_change_and_what_is_recent(
    alice, client_for, settings
):
    settings.API_CHANGES_RETENTION_DAYS = 90
    kept, edited, deleted = (
        ProposalFactory.create(submitter=alice, reference=f"DFE-2026-00{n}") for n in (11, 12, 13)
    )
    for proposal in (kept, edited, deleted):
        Proposal.objects.filter(pk=proposal.pk).update(title=proposal.title + " (renamed)")
    Proposal.objects.filter(pk=deleted.pk).delete()
    # Everything so far happened long ago (the deletion too); then `edited` changes today.
    ProposalChange.objects.update(created_at=_age(200))
    Proposal.objects.filter(pk=edited.pk).update(title="Changed today")
    before = ProposalChange.objects.count()

    removed = services.change_log_compact()

    left = list(ProposalChange.objects.order_by("id").values_list("proposal_id", "created_at"))
    assert removed == before - len(left)
    by_proposal = {pk: [at for p, at in left if p == pk] for pk in {p for p, _ in left}}
    # The deleted one's rows are gone (a recent deletion's row stays, to tell followers).
    assert set(by_proposal) == {kept.pk, edited.pk}
    assert len(by_proposal[kept.pk]) == 1  # only its latest, however old
    assert [at > _age(1) for at in by_proposal[edited.pk]] == [True]  # today's alone
    # A follower starting now still gets every proposal.
    follower = FeedFollower(client_for(alice, write=False))
    follower.follow()
    assert set(follower.references()) == {kept.reference, edited.reference}


def test_compaction_leaves_the_retention_window_alone(alice, settings):
    settings.API_CHANGES_RETENTION_DAYS = 90
    proposal = ProposalFactory.create(submitter=alice)
    for n in range(3):
        Proposal.objects.filter(pk=proposal.pk).update(title=f"Version {n}")
    ProposalChange.objects.update(created_at=_age(89))
    count = ProposalChange.objects.count()

    assert services.change_log_compact() == 0
    assert ProposalChange.objects.count() == count


def _issued_days_ago(cursor: str, days: float) -> str:
    """The same position, as the feed would have given it out `days` ago."""
    data = signing.loads(cursor, salt=_SALT)
    data["t"] = int(time.time() - days * 86400)
    return signing.dumps(data, salt=_SALT, compress=True)


def test_a_cursor_older_than_the_log_keeps_is_refused_with_410(alice, client_for, settings):
    settings.API_CHANGES_RETENTION_DAYS = 90
    ProposalFactory.create(submitter=alice)
    api = client_for(alice, write=False)
    cursor = api.get("/api/v1/changes/").json()["next_cursor"]

    recent = api.get("/api/v1/changes/?cursor=" + quote(_issued_days_ago(cursor, 88)))
    old = api.get("/api/v1/changes/?cursor=" + quote(_issued_days_ago(cursor, 89.5)))

    assert recent.status_code == 200
    assert old.status_code == 410
    body = old.json()
    assert body["code"] == "cursor_expired"
    assert "start again without a cursor" in body["detail"]
    # Every answer gives a fresh cursor: a follower that reads within the window never expires.
    assert signing.loads(recent.json()["next_cursor"], salt=_SALT)["t"] > time.time() - 60
