"""The change feed, `GET /api/v1/changes/` (SPEC §6), on whichever database the
suite runs on (SQLite by default, PostgreSQL with DATABASE_URL): every change
however it is written, exactly once and in order; `removed` for deletion,
merge-away and loss of sight, and never a word about a proposal the caller
could never see. The concurrent cases are in test_changes_postgres.py."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from django.db import connection, transaction

from accounts.models import Department
from proposals import selectors, services
from proposals.api.rows import iso
from proposals.enums import Status, Visibility
from proposals.models import Comment, Proposal, ProposalChange, Theme
from tests.api.feed import FeedFollower, seen
from tests.factories import ProposalFactory

# Each write commits on its own, as in real life (one test transaction would be
# one PostgreSQL transaction id for everything).
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def world(alice, bob):
    return {
        "draft": ProposalFactory.create(
            submitter=alice, status=Status.DRAFT, reference="DFE-2026-0001"
        ),
        "government": ProposalFactory.create(submitter=alice, reference="DFE-2026-0002"),
        "department": ProposalFactory.create(
            submitter=alice, reference="DFE-2026-0003", visibility=Visibility.DEPARTMENT
        ),
        "other": ProposalFactory.create(submitter=alice, reference="DFE-2026-0004"),
        "ho_private": ProposalFactory.create(
            submitter=bob, reference="HO-2026-0001", visibility=Visibility.DEPARTMENT
        ),
    }


def _mirror_truth(user) -> dict[str, str]:
    """What the caller may see now, as `reference → updated_at`, from the selector."""
    return {
        reference: str(iso(updated_at))
        for reference, updated_at in selectors.proposals_visible_to(user)
        .exclude(status=Status.MERGED)
        .values_list("reference", "updated_at")
    }


def test_from_the_beginning_the_feed_gives_what_each_caller_may_see(
    world, client_for, alice, bob, ana
) -> None:
    for person in (alice, bob, ana):
        follower = FeedFollower(client_for(person, write=False))
        follower.follow()
        assert follower.references() == _mirror_truth(person), person
        assert {e["type"] for e in follower.events} == {"proposal.upserted"}
    bobs = FeedFollower(client_for(bob, write=False))
    bobs.follow()
    assert "DFE-2026-0003" not in {e["reference"] for e in bobs.events}
    assert "DFE-2026-0001" not in {e["reference"] for e in bobs.events}


def test_every_way_of_writing_is_in_the_feed_once_and_in_order(
    world, client_for, alice, amir, dfe
) -> None:
    follower = FeedFollower(client_for(amir, write=False))
    follower.follow()
    government, other = world["government"], world["other"]
    theme = Theme.objects.get_or_create(slug="automation", defaults={"name": "Automation"})[0]

    services.proposal_update(proposal=other, actor=alice, data={"title": "Through the service"})
    services.support_add(proposal=government, user=amir)  # the detail's support count
    Proposal.objects.filter(pk=other.pk).update(summary="A bulk update, as triage does")
    government.themes.add(theme)  # a link table
    Comment.objects.create(proposal=other, author=amir, body="Written as the admin does")
    with connection.cursor() as cursor:  # raw SQL, as a data migration might
        cursor.execute(
            "UPDATE proposals_proposal SET hours_saved_per_year = 40 WHERE id = %s",
            [government.pk.hex if connection.vendor == "sqlite" else government.pk],
        )
    with transaction.atomic():  # one transaction, several rows: one change
        Comment.objects.filter(proposal=other).delete()
        Proposal.objects.filter(pk=other.pk).update(title="Two writes, one transaction")

    events = follower.follow()

    assert seen(events) == [
        ("DFE-2026-0004", "upserted"),
        ("DFE-2026-0002", "upserted"),
        ("DFE-2026-0004", "upserted"),
        ("DFE-2026-0002", "upserted"),
        ("DFE-2026-0004", "upserted"),
        ("DFE-2026-0002", "upserted"),
        ("DFE-2026-0004", "upserted"),
    ]
    assert follower.mirror[str(other.pk)]["title"] == "Two writes, one transaction"
    assert follower.mirror[str(government.pk)]["themes"] == ["automation"]
    assert follower.mirror[str(government.pk)]["hours_saved_per_year"] == 40
    assert follower.references() == _mirror_truth(amir)
    assert follower.follow() == []


def test_removed_for_deletion_merge_and_loss_of_sight_never_for_the_unseen(
    world, client_for, alice, bob, lena
) -> None:
    bobs = FeedFollower(client_for(bob, write=False))
    alices = FeedFollower(client_for(alice, write=False))
    bobs.follow()
    alices.follow()
    government, other = world["government"], world["other"]

    # Alice's government-wide proposal becomes department-only: Bob loses sight.
    Proposal.objects.filter(pk=government.pk).update(visibility=Visibility.DEPARTMENT)
    # A lead merges one proposal into another: it is removed for everyone who had it.
    Proposal.objects.filter(pk=other.pk).update(status=Status.MERGED, merged_into=government)
    # Bob's department-only proposal changes and goes (Alice never saw it), and
    # meanwhile Alice deletes her draft, which Bob never saw.
    Proposal.objects.filter(pk=world["ho_private"].pk).update(title="Private to the Home Office")
    services.proposal_delete_draft(proposal=world["draft"], actor=alice)
    Proposal.objects.filter(pk=world["ho_private"].pk).delete()

    assert seen(bobs.follow()) == [
        ("DFE-2026-0002", "removed"),
        ("DFE-2026-0004", "removed"),
        # Events carry the proposal as it is when read: by then it is gone.
        ("HO-2026-0001", "removed"),
        ("HO-2026-0001", "removed"),
    ]
    assert seen(alices.follow()) == [
        ("DFE-2026-0002", "upserted"),
        ("DFE-2026-0004", "removed"),
        ("DFE-2026-0001", "removed"),
    ]
    assert bobs.references() == _mirror_truth(bob)
    assert alices.references() == _mirror_truth(alice)


def test_a_caller_who_moves_department_is_told_what_they_no_longer_see(
    world, client_for, amir, home_office
) -> None:
    follower = FeedFollower(client_for(amir, write=False))
    follower.follow()
    assert "DFE-2026-0003" in follower.references()

    amir.department = home_office
    amir.save(update_fields=["department"])

    removed = [e["reference"] for e in follower.follow() if e["type"] == "proposal.removed"]
    assert removed == ["DFE-2026-0003"]
    assert "DFE-2026-0003" not in follower.references()


def test_small_pages_give_the_same_events_as_one_large_page(world, client_for, alice) -> None:
    for n in range(6):
        services.proposal_update(
            proposal=world["other" if n % 2 else "government"], actor=alice, data={"title": f"{n}"}
        )
    whole = FeedFollower(client_for(alice, write=False), page_size=500)
    paged = FeedFollower(client_for(alice, write=False), page_size=1)
    whole.follow()
    paged.follow()

    assert [(e["reference"], e["type"]) for e in paged.events] == [
        (e["reference"], e["type"]) for e in whole.events
    ]
    assert paged.mirror == whole.mirror


def test_an_event_cursor_resumes_after_that_event(world, client_for, alice) -> None:
    api = client_for(alice, write=False)
    events = api.get("/api/v1/changes/").json()["results"]
    after_second = api.get("/api/v1/changes/?cursor=" + quote(events[1]["cursor"])).json()

    assert [e["reference"] for e in after_second["results"]] == [e["reference"] for e in events[2:]]


def test_a_tampered_or_foreign_cursor_is_a_400_naming_it(world, client_for, alice) -> None:
    api = client_for(alice, write=False)
    cursor = api.get("/api/v1/changes/").json()["next_cursor"]

    for bad in (cursor[:-2] + "xx", "not-a-cursor", "e30"):
        response = api.get("/api/v1/changes/?cursor=" + quote(bad))
        assert response.status_code == 400
        assert "cursor" in response.json()["errors"]
    assert api.get("/api/v1/changes/?page_size=501").status_code == 400


def test_a_page_runs_the_same_queries_whatever_its_size(
    world, client_for, alice, django_assert_max_num_queries
) -> None:
    api = client_for(alice, write=False)
    start = api.get("/api/v1/changes/?page_size=500").json()["next_cursor"]
    for n in range(30):
        ProposalFactory.create(submitter=alice, reference=f"DFE-2026-{100 + n:04d}")
    counts = []
    for size in (2, 30):
        with django_assert_max_num_queries(8) as captured:
            body = api.get(f"/api/v1/changes/?page_size={size}&cursor={quote(start)}").json()
        # page_size counts log entries; SQLite folds one transaction's rows into one event.
        assert size - 1 <= len(body["results"]) <= size
        counts.append(len(captured.captured_queries))
    assert counts[0] == counts[1]


def test_the_log_is_written_by_the_database_not_by_the_services(world, dfe) -> None:
    """Writes Django never sees are logged, the triggers being in the database;
    renaming a department changes its proposals' rows, so they are logged too."""
    before = ProposalChange.objects.count()
    with connection.cursor() as cursor:
        cursor.execute("UPDATE proposals_proposal SET title = 'Raw' WHERE reference LIKE 'DFE-%%'")
    assert ProposalChange.objects.count() == before + 4
    Department.objects.filter(pk=dfe.pk).update(name="Education")
    assert ProposalChange.objects.count() == before + 8
    Department.objects.filter(pk=dfe.pk).update(parent=None)  # not in a row: not logged
    assert ProposalChange.objects.count() == before + 8
