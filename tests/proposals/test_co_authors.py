"""Co-authors are authors: every rule that keeps a proposal's authors out of its
own support, assessment and triage holds for them as for the submitter, and
they hear what the submitter hears."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from proposals import permissions as perms
from proposals import services, workflow
from proposals.enums import NotificationKind
from proposals.models import Notification
from tests.proposals.pages import draft, html, submitted

pytestmark = pytest.mark.django_db


def kinds_for(user, kind: NotificationKind) -> list[str]:
    return list(
        Notification.objects.filter(recipient=user, kind=kind).values_list("subject", flat=True)
    )


# --- co-authors are authors ------------------------------------------------------------------


def test_a_co_author_may_not_support_their_own_proposal(alice, amir, bob):
    proposal = submitted(alice, co_authors=[amir])

    assert perms.can_support(amir, proposal) is False
    assert perms.can_support(bob, proposal) is True
    assert workflow.may(amir, "support", proposal) is False


def test_a_co_author_supporting_their_own_proposal_is_forbidden_on_the_page(
    client: Client, alice, amir
):
    proposal = submitted(alice, co_authors=[amir])
    client.force_login(amir)

    response = client.post(f"/proposals/{proposal.reference}/support/")

    assert response.status_code == 403
    assert proposal.supports.count() == 0


def test_a_co_author_cannot_be_chosen_to_assess_their_own_proposal(alice, rita, ravi, lena):
    proposal = submitted(alice, co_authors=[rita])

    with pytest.raises(ValidationError) as raised:
        services.proposal_transition(
            proposal=proposal, actor=lena, action="accept", data={"assessors": [ravi.pk, rita.pk]}
        )

    assert raised.value.message_dict == {
        "assessors": [
            f"Rita Reviewer cannot assess {proposal.reference} because they wrote it. "
            "Choose other assessors"
        ]
    }
    assert proposal.assessments.count() == 0


def test_the_triage_page_does_not_offer_a_co_author_as_an_assessor(
    client: Client, alice, rita, ravi, lena
):
    proposal = submitted(alice, co_authors=[rita])
    client.force_login(lena)

    body = html(client.get(f"/proposals/{proposal.reference}/triage/"))

    assert "Ravi Patel" in body
    assert "Rita Reviewer" not in body


# --- co-authors hear what the submitter hears --------------------------------------------


def test_adding_a_co_author_tells_them_once(alice, amir, rita):
    proposal = draft(alice)

    services.proposal_update(proposal=proposal, actor=alice, data={"co_authors": [amir]})
    services.proposal_update(proposal=proposal, actor=alice, data={"co_authors": [amir, rita]})

    subject = f"Alice Adams added you as a co-author of {proposal.reference}"
    assert kinds_for(amir, NotificationKind.CO_AUTHOR) == [subject]
    assert kinds_for(rita, NotificationKind.CO_AUTHOR) == [subject]
    assert kinds_for(alice, NotificationKind.CO_AUTHOR) == []


def test_co_authors_named_when_the_draft_is_created_are_told(alice, amir):
    proposal = draft(alice, co_authors=[amir])

    assert kinds_for(amir, NotificationKind.CO_AUTHOR) == [
        f"Alice Adams added you as a co-author of {proposal.reference}"
    ]


def test_the_co_author_notice_is_written_in_the_same_transaction(alice, amir):
    proposal = draft(alice)

    with pytest.raises(ValidationError):
        # The title is too long, so the whole edit is refused: no co-author, no notice.
        services.proposal_update(
            proposal=proposal, actor=alice, data={"co_authors": [amir], "title": "x" * 151}
        )

    assert proposal.co_authors.count() == 0
    assert kinds_for(amir, NotificationKind.CO_AUTHOR) == []


def test_submitting_tells_every_author(alice, amir):
    proposal = submitted(alice, co_authors=[amir])

    subject = f"Your proposal {proposal.reference} has been submitted"
    assert kinds_for(alice, NotificationKind.SUBMITTED) == [subject]
    assert kinds_for(amir, NotificationKind.SUBMITTED) == [subject]
