"""Co-authors are authors: every rule that keeps a proposal's authors out of its
own support, assessment and triage holds for them as for the submitter, and
they hear what the submitter hears."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import TokenScope
from proposals import permissions as perms
from proposals import services, workflow
from proposals.enums import NotificationKind
from proposals.models import Notification
from tests.factories import UserFactory
from tests.pages import page_title, title_of
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
    subject = f"Alice Adams added you as a co-author of {proposal.reference}"

    with pytest.raises(RuntimeError), transaction.atomic():
        services.proposal_update(proposal=proposal, actor=alice, data={"co_authors": [amir]})
        assert kinds_for(amir, NotificationKind.CO_AUTHOR) == [subject]
        raise RuntimeError("something after the edit fails, so the edit is undone")

    assert proposal.co_authors.count() == 0
    assert kinds_for(amir, NotificationKind.CO_AUTHOR) == []


def test_submitting_tells_every_author(alice, amir):
    proposal = submitted(alice, co_authors=[amir])

    subject = f"Your proposal {proposal.reference} has been submitted"
    assert kinds_for(alice, NotificationKind.SUBMITTED) == [subject]
    assert kinds_for(amir, NotificationKind.SUBMITTED) == [subject]


# --- the rule: who may be a co-author (SQLite and PostgreSQL) ------------------------------

UNKNOWN = "Enter the email address of someone in the Department for Education or a collaborating department who has used this service"  # noqa: E501


@pytest.fixture
def world(alice, amir, rita, bob, hugo, ana, home_office, reference_data):
    """Alice's draft, written with the Home Office; people in and around it."""
    from accounts.models import Department  # noqa: PLC0415 (reference data must be loaded)

    UserFactory.create(email="gone@dfe.example", full_name="Gone Away", is_active=False)
    UserFactory.create(
        email="mo@mod.example",
        full_name="Mo Defence",
        department=Department.objects.get(slug="mod"),
    )
    proposal = draft(alice, collaborating_departments=[home_office], co_authors=[amir])
    return proposal


RULE = [
    # (who edits, emails sent, the users kept, the errors by position)
    ("alice", ["amir@dfe.example"], ["amir@dfe.example"], {}),
    ("alice", ["  Amir@DFE.example "], ["amir@dfe.example"], {}),
    ("alice", ["rita@dfe.example"], ["rita@dfe.example"], {}),
    ("alice", ["bob@homeoffice.example"], ["bob@homeoffice.example"], {}),
    ("alice", ["nobody@dfe.example"], [], {0: UNKNOWN}),
    ("alice", ["ana@gds.example"], [], {0: UNKNOWN}),
    ("alice", ["gone@dfe.example"], [], {0: UNKNOWN}),
    ("alice", ["mo@mod.example"], [], {0: UNKNOWN}),
    ("alice", ["nobody@homeoffice.example"], [], {0: UNKNOWN}),
    ("alice", ["alice@dfe.example"], [], {0: workflow.CO_AUTHOR_YOURSELF}),
    ("amir", ["alice@dfe.example"], [], {0: workflow.CO_AUTHOR_PROPOSER}),
    ("amir", ["amir@dfe.example"], ["amir@dfe.example"], {}),
    ("alice", ["not an email"], [], {0: workflow.CO_AUTHOR_FORMAT}),
    ("alice", ["amir@"], [], {0: workflow.CO_AUTHOR_FORMAT}),
    ("alice", [""], [], {0: workflow.CO_AUTHOR_FORMAT}),
    (
        "alice",
        ["amir@dfe.example", "rita@dfe.example", "AMIR@dfe.example"],
        ["amir@dfe.example", "rita@dfe.example"],
        {2: workflow.CO_AUTHOR_TWICE},
    ),
    (
        "alice",
        ["bob@homeoffice.example", "nobody@dfe.example", "amir@dfe.example"],
        ["bob@homeoffice.example", "amir@dfe.example"],
        {1: UNKNOWN},
    ),
]


@pytest.mark.parametrize(("who", "emails", "kept", "errors"), RULE)
def test_who_may_be_a_co_author(world, who, emails, kept, errors, request):
    actor = request.getfixturevalue(who)

    checked = workflow.check_co_authors(
        emails,
        actor=actor,
        submitter=world.submitter,
        department=world.department,
        collaborating_ids=[d.pk for d in world.collaborating_departments.all()],
    )

    assert [user.email for user in checked.users] == kept
    assert checked.errors == errors


def test_the_unknown_answer_names_the_department_as_people_say_it(reference_data):
    from accounts.models import Department  # noqa: PLC0415 (reference data must be loaded)

    assert workflow.co_author_unknown(Department.objects.get(slug="hm-treasury")) == (
        "Enter the email address of someone in HM Treasury or a collaborating department "
        "who has used this service"
    )
    assert workflow.co_author_unknown(Department.objects.get(slug="home-office")).startswith(
        "Enter the email address of someone in the Home Office or"
    )


# --- the question page --------------------------------------------------------------------


def page_url(proposal, query: str = "") -> str:
    return f"/proposals/{proposal.reference}/edit/co-authors/{query}"


def test_the_page_asks_who_else_is_working_on_it(client: Client, alice):
    proposal = draft(alice)
    client.force_login(alice)

    response = client.get(page_url(proposal))

    body = html(response)
    assert response.status_code == 200
    assert title_of(response) == page_title("Who else is working on this?")
    assert f"{proposal.reference} – question 6 of 6" in body
    assert '<label class="govuk-label" for="id_co_author_0">' in body
    assert 'type="email" name="co_author_0"' in body
    assert 'value="add"' in body and "Add another co-author" in body
    # One empty field has nothing to remove.
    assert 'value="remove-0"' not in body


def test_the_page_lists_the_co_authors_each_with_remove(client: Client, alice, amir, rita):
    proposal = draft(alice, co_authors=[amir, rita])
    client.force_login(alice)

    body = html(client.get(page_url(proposal)))

    assert 'value="amir@dfe.example"' in body
    assert 'value="rita@dfe.example"' in body
    assert 'value="remove-0"' in body and 'value="remove-1"' in body
    assert 'Remove<span class="govuk-visually-hidden"> co-author 2</span>' in body


def test_add_another_shows_one_more_field_and_saves_nothing(client: Client, alice):
    proposal = draft(alice)
    client.force_login(alice)

    response = client.post(page_url(proposal), {"co_author_0": "amir@dfe.example", "action": "add"})

    body = html(response)
    assert response.status_code == 200
    assert 'name="co_author_0" value="amir@dfe.example"' in body
    assert 'name="co_author_1"' in body
    assert "Email address of co-author 2" in body
    assert "govuk-error-summary" not in body
    assert proposal.co_authors.count() == 0


def test_remove_takes_that_field_away_and_saves_nothing(client: Client, alice, amir):
    proposal = draft(alice, co_authors=[amir])
    client.force_login(alice)

    response = client.post(
        page_url(proposal),
        {
            "co_author_0": "amir@dfe.example",
            "co_author_1": "rita@dfe.example",
            "action": "remove-0",
        },
    )

    body = html(response)
    assert response.status_code == 200
    assert 'name="co_author_0" value="rita@dfe.example"' in body
    assert 'name="co_author_1"' not in body
    assert list(proposal.co_authors.all()) == [amir]


def test_continue_saves_the_co_authors_and_goes_to_the_files(client: Client, alice, amir, rita):
    proposal = draft(alice)
    client.force_login(alice)

    response = client.post(
        page_url(proposal),
        {"co_author_0": "amir@dfe.example", "co_author_1": "", "co_author_2": "RITA@dfe.example"},
    )

    assert response.status_code == 302
    assert response["Location"] == f"/proposals/{proposal.reference}/edit/attachments/"
    assert set(proposal.co_authors.all()) == {amir, rita}
    assert kinds_for(amir, NotificationKind.CO_AUTHOR) == [
        f"Alice Adams added you as a co-author of {proposal.reference}"
    ]


def test_clearing_every_field_removes_every_co_author(client: Client, alice, amir):
    proposal = draft(alice, co_authors=[amir])
    client.force_login(alice)

    response = client.post(page_url(proposal), {"co_author_0": "", "action": "draft"})

    assert response.status_code == 302
    assert response["Location"] == f"/proposals/{proposal.reference}/"
    assert proposal.co_authors.count() == 0


def test_each_wrong_email_is_named_at_its_field(client: Client, alice, amir):
    proposal = draft(alice)
    client.force_login(alice)

    response = client.post(
        page_url(proposal),
        {
            "co_author_0": "amir@dfe.example",
            "co_author_1": "amir at dfe",
            "co_author_2": "alice@dfe.example",
            "co_author_3": "bob@homeoffice.example",
            "co_author_4": "nobody@dfe.example",
        },
    )

    body = html(response)
    assert response.status_code == 400
    assert title_of(response) == page_title("Who else is working on this?", error=True)
    assert f'<li><a href="#id_co_author_1">{workflow.CO_AUTHOR_FORMAT}</a></li>' in body
    assert f'<li><a href="#id_co_author_2">{workflow.CO_AUTHOR_YOURSELF}</a></li>' in body
    # Bob has an account (not in a working department), nobody has none: the same words.
    assert f'<li><a href="#id_co_author_3">{UNKNOWN}</a></li>' in body
    assert f'<li><a href="#id_co_author_4">{UNKNOWN}</a></li>' in body
    assert 'id="id_co_author_3-error"' in body
    assert 'name="co_author_1" value="amir at dfe"' in body
    assert proposal.co_authors.count() == 0


def test_the_page_answers_the_same_whether_or_not_an_account_exists(client: Client, alice, bob):
    proposal = draft(alice)
    client.force_login(alice)

    outsider = client.post(page_url(proposal), {"co_author_0": "bob@homeoffice.example"})
    unknown = client.post(page_url(proposal), {"co_author_0": "nobody@homeoffice.example"})

    def without_value(response) -> str:
        # The page's main content, less what differs on every response (the CSRF token).
        main = html(response).split("<main", 1)[1].split("</main>", 1)[0]
        main = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", main)
        return main.replace("bob@homeoffice.example", "").replace("nobody@homeoffice.example", "")

    assert outsider.status_code == unknown.status_code == 400
    assert without_value(outsider) == without_value(unknown)


def test_a_co_author_from_a_working_department_is_accepted(client: Client, alice, bob, home_office):
    proposal = draft(alice, collaborating_departments=[home_office])
    client.force_login(alice)

    response = client.post(page_url(proposal), {"co_author_0": "bob@homeoffice.example"})

    assert response.status_code == 302
    assert list(proposal.co_authors.all()) == [bob]


def test_a_co_author_may_change_the_co_authors_and_keep_themselves(
    client: Client, alice, amir, rita
):
    proposal = draft(alice, co_authors=[amir])
    client.force_login(amir)

    response = client.post(
        page_url(proposal, "?from=check"),
        {"co_author_0": "amir@dfe.example", "co_author_1": "rita@dfe.example", "from": "check"},
    )

    assert response.status_code == 302
    assert response["Location"] == f"/proposals/{proposal.reference}/check/"
    assert set(proposal.co_authors.all()) == {amir, rita}
    assert kinds_for(rita, NotificationKind.CO_AUTHOR) == [
        f"Amir Khan added you as a co-author of {proposal.reference}"
    ]


def test_other_people_cannot_open_the_page(client: Client, alice, amir, bob):
    proposal = draft(alice)

    client.force_login(amir)
    assert client.get(page_url(proposal)).status_code == 404
    client.force_login(bob)
    assert (
        client.post(page_url(proposal), {"co_author_0": "bob@homeoffice.example"}).status_code
        == 404
    )
    assert proposal.co_authors.count() == 0


def test_check_answers_shows_the_co_authors_with_a_change_link(client: Client, alice, amir):
    proposal = draft(alice, co_authors=[amir])
    client.force_login(alice)

    body = html(client.get(f"/proposals/{proposal.reference}/check/"))

    assert "Co-authors" in body
    assert "Amir Khan (amir@dfe.example)" in body
    assert (
        f'href="/proposals/{proposal.reference}/edit/co-authors/?from=check#id_co_author_0"' in body
    )


def test_the_proposal_page_names_co_authors_without_their_emails(client: Client, alice, amir, bob):
    proposal = submitted(alice, co_authors=[amir])
    client.force_login(bob)

    body = html(client.get(f"/proposals/{proposal.reference}/"))

    assert "Amir Khan" in body
    assert "amir@dfe.example" not in body


def test_the_page_makes_the_same_number_of_queries_however_many_co_authors(
    client: Client, alice, amir, rita, ravi, django_assert_max_num_queries
):
    few = draft(alice, co_authors=[amir])
    many = draft(alice, co_authors=[amir, rita, ravi])
    client.force_login(alice)
    client.get(page_url(few))

    from django.db import connection  # noqa: PLC0415 (only this test counts queries)
    from django.test.utils import CaptureQueriesContext  # noqa: PLC0415

    with CaptureQueriesContext(connection) as one:
        client.get(page_url(few))
    with django_assert_max_num_queries(len(one.captured_queries)):
        client.get(page_url(many))


# --- the API asks the same rule and says the same things ------------------------------------


@pytest.mark.parametrize(
    "emails",
    [
        ["nobody@dfe.example"],
        ["bob@homeoffice.example"],
        ["alice@dfe.example"],
        ["amir at dfe"],
        ["amir@dfe.example", "amir@dfe.example"],
        ["amir@dfe.example", "ana@gds.example", "x@"],
    ],
)
def test_the_api_answers_as_the_page_does(client: Client, alice, amir, ana, emails):
    proposal = draft(alice)
    client.force_login(alice)
    page = client.post(
        page_url(proposal), {f"co_author_{i}": email for i, email in enumerate(emails)}
    )
    _, key = services.api_token_create(user=alice, name="rules", scope=TokenScope.WRITE)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")

    response = api.patch(
        f"/api/v1/proposals/{proposal.reference}/", {"co_authors": emails}, format="json"
    )

    assert page.status_code == response.status_code == 400
    assert "__all__" not in page.context["form"].errors
    on_page = list(
        dict.fromkeys(
            str(message)
            for name, messages in page.context["form"].errors.items()
            for message in messages
        )
    )
    assert response.json()["errors"] == {"co_authors": on_page}
    assert proposal.co_authors.count() == 0


def test_a_co_author_who_removes_themselves_goes_home(client: Client, alice, amir, rita):
    proposal = draft(alice, co_authors=[amir, rita])
    client.force_login(amir)

    response = client.post(page_url(proposal), {"co_author_0": "rita@dfe.example"}, follow=True)

    assert response.redirect_chain == [("/", 302)]
    assert f"You are no longer a co-author of {proposal.reference}" in html(response)
    assert list(proposal.co_authors.all()) == [rita]


def test_the_page_says_whom_to_add(client: Client, alice):
    proposal = draft(alice)
    client.force_login(alice)

    body = html(client.get(page_url(proposal)))

    assert "They must be in the Department for Education or a department working with you" in body
