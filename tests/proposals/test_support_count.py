"""The support count: a column the database keeps exact, whatever writes supports."""

from __future__ import annotations

import threading

import pytest
from django.db import close_old_connections, connection

from accounts.models import Department
from proposals import services
from proposals.enums import Status
from proposals.models import Proposal, Support
from tests.factories import ProposalFactory, UserFactory


def _count(proposal: Proposal) -> int:
    return Proposal.objects.values_list("support_count", flat=True).get(pk=proposal.pk)


@pytest.mark.django_db
def test_the_count_follows_every_way_of_writing_a_support(alice, dfe):
    proposal = ProposalFactory.create(submitter=alice, status=Status.SUBMITTED)
    other = ProposalFactory.create(submitter=alice, status=Status.SUBMITTED)
    people = UserFactory.create_batch(4, department=dfe)

    services.support_add(proposal=proposal, user=people[0])
    services.support_add(proposal=proposal, user=people[0])  # a second press: still one
    Support.objects.bulk_create([Support(proposal=proposal, user=p) for p in people[1:]])
    assert _count(proposal) == 4

    services.support_remove(proposal=proposal, user=people[0])
    Support.objects.filter(proposal=proposal, user=people[1]).update(proposal=other)
    assert (_count(proposal), _count(other)) == (2, 1)

    Support.objects.filter(proposal=proposal).delete()
    assert _count(proposal) == 0
    assert _count(other) == Support.objects.filter(proposal=other).count() == 1


@pytest.mark.django_db
def test_most_supported_first_reads_the_column(client, alice, dfe):
    quiet = ProposalFactory.create(submitter=alice, status=Status.SUBMITTED, title="Quiet")
    loud = ProposalFactory.create(submitter=alice, status=Status.SUBMITTED, title="Loud")
    for person in UserFactory.create_batch(3, department=dfe):
        services.support_add(proposal=loud, user=person)
    client.force_login(alice)
    page = client.get("/proposals/?sort=supported").content.decode()
    assert page.index(loud.reference) < page.index(quiet.reference)


@pytest.mark.django_db(transaction=True)
def test_concurrent_supports_are_counted_exactly(require_postgres, reference_data):
    """Twenty people support one proposal at once, each in their own connection."""
    dfe = Department.objects.get(slug="dfe")
    author = UserFactory.create(department=dfe)
    proposal = ProposalFactory.create(submitter=author, status=Status.SUBMITTED)
    people = UserFactory.create_batch(20, department=dfe)
    start = threading.Barrier(len(people))
    errors: list[BaseException] = []

    def support(person) -> None:
        try:
            start.wait()
            services.support_add(proposal=proposal, user=person)
        except BaseException as error:
            errors.append(error)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=support, args=(p,)) for p in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert _count(proposal) == Support.objects.filter(proposal=proposal).count() == 20
