"""The change feed on PostgreSQL with real concurrent transactions (SPEC §6):
writers on their own connections hold transactions open and commit out of
order while clients follow `/api/v1/changes/`.

The first test is the case that loses rows with `updated_after` and a settling
lag: a write whose transaction stays open longer than the lag. The second keeps
mirrors in sync while writers create, edit, support, hide and delete proposals,
and counts changes written / seen / missed / duplicated.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from typing import Any

import pytest
from django.core import signing
from django.db import connection, transaction

from proposals import selectors, services
from proposals.api.rows import iso
from proposals.enums import Status, Visibility
from proposals.models import Proposal, ProposalChange, Support
from tests.api.feed import FeedFollower, seen
from tests.api.test_sync_postgres import SyncClient
from tests.factories import ProposalFactory

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def _xid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_current_xact_id()::text::bigint")
        return int(cursor.fetchone()[0])


def _position(event: dict[str, Any]) -> tuple[int, str]:
    """The (transaction id, proposal id) an event stands for, from its cursor."""
    data = signing.loads(event["cursor"], salt="proposals.api.changes")
    return int(data["a"][0]), event["id"]


def _truth(user) -> dict[str, dict[str, Any]]:
    return {
        str(pk): {"reference": reference, "title": title, "updated_at": iso(updated_at)}
        for pk, reference, title, updated_at in selectors.proposals_visible_to(user)
        .exclude(status=Status.MERGED)
        .values_list("pk", "reference", "title", "updated_at")
    }


def _mirror(follower: FeedFollower) -> dict[str, dict[str, Any]]:
    return {
        pk: {"reference": row["reference"], "title": row["title"], "updated_at": row["updated_at"]}
        for pk, row in follower.mirror.items()
    }


def _hold_open(proposal: Proposal, actor, stamped, release, hold: float, errors: list) -> None:
    try:
        with transaction.atomic():
            services.proposal_update(proposal=proposal, actor=actor, data={"title": "Slow commit"})
            stamped.set()
            assert release.wait(hold + 30)
    except Exception as exc:  # reported to the main thread, which fails the test
        errors.append(exc)
    finally:
        connection.close()


@pytest.mark.parametrize(
    "hold", [pytest.param(3.0, id="3s"), pytest.param(30.0, id="30s", marks=pytest.mark.slow)]
)
def test_a_transaction_held_open_commits_late_and_is_neither_lost_nor_holds_others_back(
    require_postgres, settings, client_for, alice, bob, hold
) -> None:
    settings.API_SETTLING_LAG_SECONDS = 1  # the old way, for the control below
    slow, quick, hidden, last = (
        ProposalFactory.create(submitter=alice, reference=f"DFE-2026-000{n}") for n in range(1, 5)
    )
    follower = FeedFollower(client_for(bob, write=False))
    late_reader = FeedFollower(client_for(bob, write=False))
    old_way = SyncClient(client_for(bob, write=False))
    follower.follow()
    late_reader.follow()
    time.sleep(settings.API_SETTLING_LAG_SECONDS + 0.1)
    old_way.sync()
    assert len(follower.mirror) == len(late_reader.mirror) == len(old_way.seen) == 4

    stamped, release, errors = threading.Event(), threading.Event(), list[BaseException]()
    writer = threading.Thread(target=_hold_open, args=(slow, alice, stamped, release, hold, errors))
    writer.start()
    assert stamped.wait(10)
    started = time.monotonic()

    # While the slow transaction is open, others commit, and the feed has each at once.
    services.proposal_update(proposal=quick, actor=alice, data={"title": "Quick commit"})
    assert seen(follower.follow()) == [("DFE-2026-0002", "upserted")]
    Proposal.objects.filter(pk=hidden.pk).update(visibility=Visibility.DEPARTMENT)
    assert seen(follower.follow()) == [("DFE-2026-0003", "removed")]
    services.proposal_update(proposal=last, actor=alice, data={"title": "Last commit"})
    assert seen(follower.follow()) == [("DFE-2026-0004", "upserted")]
    while time.monotonic() - started < hold:
        assert follower.follow() == []  # the open transaction's change is not out yet
        old_way.sync()
        time.sleep(0.5)

    release.set()
    writer.join(10)
    assert errors == []
    assert seen(follower.follow()) == [("DFE-2026-0001", "upserted")]
    late_reader.follow()
    time.sleep(settings.API_SETTLING_LAG_SECONDS + 0.5)
    old_way.sync()

    # Every change exactly once, in the order they committed, and the mirror exact.
    assert seen(follower.events[4:]) == [
        ("DFE-2026-0002", "upserted"),
        ("DFE-2026-0003", "removed"),
        ("DFE-2026-0004", "upserted"),
        ("DFE-2026-0001", "upserted"),
    ]
    assert _mirror(follower) == _truth(bob)
    assert follower.mirror[str(slow.pk)]["title"] == "Slow commit"
    # A reader who only comes back at the end gets the same changes once each (those
    # that committed between two of its reads come in transaction-id order).
    assert Counter(seen(late_reader.events[4:])) == Counter(seen(follower.events[4:]))
    assert _mirror(late_reader) == _truth(bob)
    # The control: `updated_after` with a settling lag shorter than the transaction
    # loses the slow change for good (and keeps the hidden proposal, a ghost row).
    assert old_way.seen["DFE-2026-0001"] != _truth(bob)[str(slow.pk)]["updated_at"]
    assert "DFE-2026-0003" in old_way.seen


# --- mirrors kept in sync under concurrent writers ---------------------------------------------


class Writer(threading.Thread):
    """Random writes on its own connection, each transaction held a random while;
    records the (transaction id, proposal id) of every commit."""

    def __init__(self, seed: int, pool: list[Proposal], people: dict, stop: threading.Event):
        super().__init__()
        self.rng = random.Random(seed)
        self.pool, self.people, self.stop = pool, people, stop
        self.committed: list[tuple[int, str]] = []
        self.deleted: set[str] = set()
        self.errors: list[BaseException] = []
        self.seed = seed

    def one(self, n: int) -> tuple[int, str] | None:
        alice, amir = self.people["alice"], self.people["amir"]
        target = self.rng.choice(self.pool)
        choice = self.rng.random()
        with transaction.atomic():
            if choice < 0.35:
                services.proposal_update(
                    proposal=target, actor=alice, data={"title": f"Edit {self.seed}-{n}"}
                )
            elif choice < 0.5:
                new = Visibility.DEPARTMENT if self.rng.random() < 0.5 else Visibility.GOVERNMENT
                Proposal.objects.filter(pk=target.pk).update(visibility=new)  # a bulk write
            elif choice < 0.7:
                if not Support.objects.filter(proposal=target, user=amir).delete()[0]:
                    services.support_add(proposal=target, user=amir)
            elif choice < 0.85:
                services.comment_add(proposal=target, author=amir, body=f"Comment {n}")
            else:
                draft = ProposalFactory.create(
                    submitter=alice,
                    status=Status.DRAFT,
                    reference=f"DFE-2026-{self.seed}{n:04d}",
                    department=alice.department,
                )
                if self.rng.random() < 0.5:
                    xid = _xid()
                    time.sleep(self.rng.uniform(0, 0.2))
                    draft.delete()
                    self.deleted.add(str(draft.pk))
                    return xid, str(draft.pk)
                target = draft
            xid = _xid()
            # Two writers adding the same support: the loser's insert fails, writes nothing.
            wrote = ProposalChange.objects.filter(xid=xid, proposal_id=target.pk).exists()
            time.sleep(self.rng.uniform(0, 0.3))
        return (xid, str(target.pk)) if wrote else None

    def run(self) -> None:
        try:
            n = 0
            while not self.stop.is_set():
                n += 1
                done = self.one(n)
                if done:
                    self.committed.append(done)
        except Exception as exc:  # reported to the main thread, which fails the test
            self.errors.append(exc)
        finally:
            connection.close()


def test_mirrors_following_the_feed_end_exact_under_concurrent_writers(
    require_postgres, client_for, alice, amir, bob, capsys
) -> None:
    pool = [
        ProposalFactory.create(submitter=alice, reference=f"DFE-2026-{n:04d}") for n in range(20)
    ]
    followers = {
        "alice": FeedFollower(client_for(alice, write=False), page_size=7),
        "bob": FeedFollower(client_for(bob, write=False), page_size=7),
    }
    for follower in followers.values():
        follower.follow()
    bootstrap = {name: len(f.events) for name, f in followers.items()}
    stop = threading.Event()
    writers = [Writer(seed, pool, {"alice": alice, "amir": amir}, stop) for seed in (1, 2, 3)]
    for writer in writers:
        writer.start()
    started = time.monotonic()
    reads = 0
    while time.monotonic() - started < 6:
        for follower in followers.values():
            follower.follow()
            reads += 1
    stop.set()
    for writer in writers:
        writer.join(15)
    for follower in followers.values():
        follower.follow()

    assert [e for w in writers for e in w.errors] == []
    for name, user in (("alice", alice), ("bob", bob)):
        assert _mirror(followers[name]) == _truth(user), name

    # Alice may see every proposal written, so her feed must have every committed
    # change exactly once, but for drafts created and deleted between two of her
    # reads, which she was never shown.
    committed = [c for w in writers for c in w.committed]
    deleted = set().union(*(w.deleted for w in writers))
    events = followers["alice"].events[bootstrap["alice"] :]
    positions = Counter(_position(e) for e in events)
    expected = {c for c in committed if c[1] not in deleted}
    missed = expected - set(positions)
    duplicated = sum(count - 1 for count in positions.values())
    with capsys.disabled():
        print(
            f"\nchange feed: {len(committed)} transactions written by 3 writers, "
            f"{len(events)} events seen by alice over {reads} reads, {len(missed)} missed, "
            f"{duplicated} duplicated; bob saw {len(followers['bob'].events) - bootstrap['bob']}"
            f" events, {sum(e['type'] == 'proposal.removed' for e in followers['bob'].events)}"
            " of them removals"
        )
    assert len(committed) > 30
    assert missed == set()
    assert duplicated == 0
    assert set(positions) - set(committed) == set()
