"""Who reads assessments (SPEC §1, §3): one selector for the page and the API."""

from __future__ import annotations

import pytest
from django.utils import timezone

from proposals import selectors, services
from proposals.enums import Status
from proposals.models import Assessment, Score
from tests.factories import ProposalFactory


@pytest.fixture
def in_review(alice, rita, ravi, lena, dfe):
    """Alice's proposal in review: ravi has scored it 5s; rita is yet to submit."""
    proposal = ProposalFactory.create(submitter=alice, status=Status.IN_REVIEW)
    criterion = dfe.criteria.first()
    done = Assessment.objects.create(
        proposal=proposal,
        assessor=ravi,
        conflict_declared=False,
        recommendation="fund",
        comment="Strong evidence of need",
        weighted_score=5,
        submitted_at=timezone.now(),
    )
    Score.objects.create(assessment=done, criterion=criterion, score=5, comment="Clear users")
    Assessment.objects.create(proposal=proposal, assessor=rita)
    return proposal


@pytest.mark.django_db
def test_assessor_yet_to_submit_reads_only_their_own(in_review, rita, ravi, lena, alice, bob):
    def assessors(user):
        return sorted(a.assessor.email for a in selectors.assessments_visible_to(user, in_review))

    assert assessors(rita) == ["rita@dfe.example"]
    assert assessors(lena) == ["ravi@dfe.example", "rita@dfe.example"]
    assert assessors(alice) == []
    assert assessors(bob) == []


@pytest.mark.django_db
def test_pending_assessor_sees_no_other_scores_on_the_proposal_page(client, in_review, rita):
    client.force_login(rita)
    page = client.get(f"/proposals/{in_review.reference}/").content.decode()
    assert "Strong evidence of need" not in page
    assert "Weighted score" not in page


@pytest.mark.django_db
def test_released_feedback_shows_authors_comments_but_never_scores(client, in_review, alice, lena):
    in_review.status = Status.APPROVED
    in_review.save()
    assert list(selectors.feedback_visible_to(alice, in_review)) == []
    services.feedback_release(proposal=in_review, actor=lena)
    in_review.refresh_from_db()

    client.force_login(alice)
    page = client.get(f"/proposals/{in_review.reference}/").content.decode()
    assert "Strong evidence of need" in page
    assert "Clear users" in page
    assert "out of 5" not in page
