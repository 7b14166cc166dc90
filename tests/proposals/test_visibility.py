"""Visibility as a table (SPEC §1): draft / department / government × who is looking."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import Http404

from accounts.models import Department
from proposals.enums import Status, Visibility
from proposals.selectors import proposal_for, proposals_visible_to
from tests.factories import ProposalFactory, UserFactory

# viewer: (draft, department-only submitted, government submitted)
EXPECTED = {
    "author": (True, True, True),
    "co_author_elsewhere": (True, True, True),
    "same_department": (False, True, True),
    "same_department_reviewer": (False, True, True),
    "collaborating_department": (False, True, True),
    "other_department": (False, False, True),
    "other_department_reviewer": (False, False, True),
    "analyst": (False, False, True),
}


@pytest.fixture
def viewers(alice, amir, rita, bob, hugo, ana, dfe, home_office):
    return {
        "author": alice,
        "co_author_elsewhere": UserFactory.create(
            email="cora@dwp.example", department=Department.objects.get(slug="dwp")
        ),
        "same_department": amir,
        "same_department_reviewer": rita,
        "collaborating_department": UserFactory.create(
            email="colin@mod.example", department=Department.objects.get(slug="mod")
        ),
        "other_department": bob,
        "other_department_reviewer": hugo,
        "analyst": ana,
    }


@pytest.mark.parametrize("viewer", sorted(EXPECTED))
@pytest.mark.parametrize(
    ("kind", "status", "visibility"),
    [
        (0, Status.DRAFT, Visibility.GOVERNMENT),
        (1, Status.SUBMITTED, Visibility.DEPARTMENT),
        (2, Status.SUBMITTED, Visibility.GOVERNMENT),
    ],
)
@pytest.mark.django_db
def test_visibility_table(viewer, kind, status, visibility, viewers):
    proposal = ProposalFactory.create(
        submitter=viewers["author"], status=status, visibility=visibility
    )
    proposal.co_authors.add(viewers["co_author_elsewhere"])
    proposal.collaborating_departments.add(Department.objects.get(slug="mod"))
    user = viewers[viewer]

    visible = proposals_visible_to(user).filter(pk=proposal.pk).exists()

    assert visible is EXPECTED[viewer][kind]
    if not visible:
        with pytest.raises(Http404):
            proposal_for(user, proposal.reference)


@pytest.mark.django_db
def test_analysts_never_see_department_only_work_even_of_their_own_department(ana):
    ProposalFactory.create(
        submitter=UserFactory.create(email="gus@gds.example", department=ana.department),
        visibility=Visibility.DEPARTMENT,
    )
    assert proposals_visible_to(ana).count() == 0


@pytest.mark.django_db
def test_nobody_signed_out_or_deactivated_sees_anything(alice):
    ProposalFactory.create(submitter=alice)
    assert proposals_visible_to(AnonymousUser()).count() == 0
    alice.is_active = False
    alice.save()
    assert proposals_visible_to(alice).count() == 0


@pytest.mark.django_db
def test_visible_list_has_no_duplicates_with_many_co_authors(alice, amir, rita):
    proposal = ProposalFactory.create(submitter=alice)
    proposal.co_authors.add(amir, rita)
    assert list(proposals_visible_to(amir)) == [proposal]
