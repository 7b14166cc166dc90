"""Incremental sync misses nothing (SPEC §6), on PostgreSQL with real
concurrent transactions: writer threads each have their own database
connection, stamp `updated_at`, and commit in a different order from the one
they stamped in, while a client pages the feed with `updated_after`.
"""

from __future__ import annotations

import datetime as dt
import random
import threading
import time
from urllib.parse import quote

import pytest
from django.db import connection, transaction
from django.utils import timezone

from proposals import services
from proposals.api.rows import iso
from proposals.models import Proposal
from tests.factories import ProposalFactory

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


class SyncClient:
    """What an integrating system does: remember the newest `updated_at` seen,
    ask for what changed after it, follow `next` to the end."""

    def __init__(self, api) -> None:
        self.api = api
        self.seen: dict[str, str] = {}
        self.watermark: dt.datetime | None = None

    def sync(self, page_size: int = 2) -> None:
        url = f"/api/v1/proposals/?page_size={page_size}"
        if self.watermark is not None:
            url += "&updated_after=" + quote(self.watermark.isoformat())
        while url:
            response = self.api.get(url)
            assert response.status_code == 200, response.content
            body = response.json()
            for row in body["results"]:
                self.seen[row["reference"]] = row["updated_at"]
                stamp = dt.datetime.fromisoformat(row["updated_at"])
                self.watermark = max(self.watermark or stamp, stamp)
            url = body["next"]


def truth() -> dict[str, str]:
    return {
        reference: str(iso(updated_at))
        for reference, updated_at in Proposal.objects.values_list("reference", "updated_at")
    }


def _proposals(alice, count: int) -> list[Proposal]:
    old = timezone.now() - dt.timedelta(hours=1)
    made = [
        ProposalFactory.create(submitter=alice, reference=f"DFE-2026-{n:04d}")
        for n in range(1, count + 1)
    ]
    Proposal.objects.filter(pk__in=[p.pk for p in made]).update(updated_at=old)
    return made


def _hold_open_update(
    proposal: Proposal, actor, stamped: threading.Event, release: threading.Event
):
    """Stamp an update, then keep its transaction open until told to commit."""
    try:
        with transaction.atomic():
            services.proposal_update(proposal=proposal, actor=actor, data={"title": "Slow commit"})
            stamped.set()
            assert release.wait(10)
    finally:
        connection.close()


def _out_of_order_commit(settings, client_for, alice, lag: int) -> tuple[SyncClient, dict]:
    settings.API_SETTLING_LAG_SECONDS = lag
    first, second, *_ = _proposals(alice, 5)
    client = SyncClient(client_for(alice))
    client.sync()
    assert len(client.seen) == 5
    stamped, release = threading.Event(), threading.Event()
    slow = threading.Thread(target=_hold_open_update, args=(first, alice, stamped, release))
    slow.start()
    assert stamped.wait(10)

    # A later transaction stamps after the slow one but commits first…
    services.proposal_update(proposal=second, actor=alice, data={"title": "Quick commit"})
    client.sync()
    # …then the slow one commits, well within the settling lag.
    release.set()
    slow.join(10)
    deadline = time.monotonic() + lag + 1.5
    while time.monotonic() < deadline:
        client.sync()
        time.sleep(0.2)
    client.sync()
    return client, truth()


def test_sync_sees_a_change_that_commits_after_a_later_one(
    require_postgres, settings, client_for, alice
) -> None:
    client, expected = _out_of_order_commit(settings, client_for, alice, lag=2)

    assert client.seen == expected


def test_without_the_settling_lag_the_same_race_loses_a_change(
    require_postgres, settings, client_for, alice
) -> None:
    """The control: proves the test above would catch a feed without the lag."""
    client, expected = _out_of_order_commit(settings, client_for, alice, lag=0)

    assert client.seen["DFE-2026-0002"] == expected["DFE-2026-0002"]
    assert client.seen["DFE-2026-0001"] != expected["DFE-2026-0001"]


def _writer(proposals, actor, stop: threading.Event, seed: int, errors: list) -> None:
    rng = random.Random(seed)
    try:
        n = 0
        while not stop.is_set():
            n += 1
            with transaction.atomic():
                target = rng.choice(proposals)
                services.proposal_update(
                    proposal=target, actor=actor, data={"title": f"Edit {seed}-{n}"}
                )
                # Hold the transaction a random while, so commits overtake each other.
                time.sleep(rng.uniform(0, 0.25))
    except Exception as exc:  # reported to the main thread, which fails the test
        errors.append(exc)
    finally:
        connection.close()


def test_sync_while_rows_change_and_commit_out_of_order_misses_nothing(
    require_postgres, settings, client_for, alice
) -> None:
    settings.API_SETTLING_LAG_SECONDS = 1
    proposals = _proposals(alice, 12)
    client = SyncClient(client_for(alice))
    stop, errors = threading.Event(), list[BaseException]()
    writers = [
        threading.Thread(target=_writer, args=(proposals, alice, stop, seed, errors))
        for seed in (1, 2, 3)
    ]
    for writer in writers:
        writer.start()

    started = time.monotonic()
    syncs = 0
    while time.monotonic() - started < 4:
        client.sync(page_size=3)
        syncs += 1
    stop.set()
    for writer in writers:
        writer.join(10)
    time.sleep(settings.API_SETTLING_LAG_SECONDS + 0.5)
    client.sync(page_size=3)

    assert errors == []
    assert syncs > 5
    assert Proposal.objects.filter(version__gt=1).count() > 3
    assert client.seen == truth()
