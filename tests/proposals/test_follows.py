"""Following a proposal (issue 11): the services, who is told what, and the visibility rule
at the moment of the change."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from accounts.models import Department, TokenScope
from proposals import notifications, selectors, services
from proposals.enums import NotificationKind, Visibility
from proposals.exceptions import ActionNotAllowed
from proposals.models import AuditEvent, Follow, Notification
from tests.proposals.review_world import (
    approved,
    assess,
    in_review,
    planned,
    submitted,
    with_outcome,
)

FOLLOWED = NotificationKind.FOLLOWED


def told(user) -> list[tuple[str, str]]:
    return [
        (n.subject, n.body)
        for n in Notification.objects.filter(recipient=user, kind=FOLLOWED).order_by(
            "created_at", "subject"
        )
    ]


@pytest.mark.django_db
def test_follow_once_per_person_audited_for_the_panel_only(alice, bob):
    proposal = submitted(alice)

    first = services.follow_add(proposal=proposal, user=bob)
    again = services.follow_add(proposal=proposal, user=bob)

    assert first.pk == again.pk
    assert Follow.objects.filter(proposal=proposal).count() == 1
    event = AuditEvent.objects.get(action="follow")
    assert (event.actor, event.audience) == (bob, "reviewers")


@pytest.mark.django_db
def test_authors_and_analysts_cannot_follow(alice, amir, ana):
    proposal = submitted(alice)
    services.proposal_update(
        proposal=proposal, actor=alice, data={"co_authors": [amir]}
    )  # amir co-writes it: told as an author already

    for person in (alice, amir, ana):
        with pytest.raises(ActionNotAllowed):
            services.follow_add(proposal=proposal, user=person)
    assert not Follow.objects.exists()


@pytest.mark.django_db
def test_a_follower_hears_of_the_decision_without_its_rationale(alice, bob, rita, lena):
    proposal = in_review(alice, rita, [rita])
    services.follow_add(proposal=proposal, user=bob)

    assess(proposal, rita, 4)
    services.proposal_transition(
        proposal=proposal, actor=lena, action="approve", data={"rationale": "Worth a try"}
    )

    assert told(bob) == [
        (
            f"Decision on {proposal.reference}: approved",
            f"“{proposal.title}”, which you follow, has been approved.",
        )
    ]
    row = Notification.objects.get(recipient=bob, kind=FOLLOWED)
    assert row.url == f"/proposals/{proposal.reference}/"
    # The rationale is the decision's, not the follower's email's.
    assert "Worth a try" not in row.body


@pytest.mark.django_db
def test_a_follower_hears_of_an_experiment_starting_and_its_outcome(alice, bob, rita, lena):
    proposal = approved(alice, rita, lena)
    services.follow_add(proposal=proposal, user=bob)
    experiment = planned(proposal, lena)

    with_outcome(experiment, lena)

    subjects = [subject for subject, _ in told(bob)]
    assert subjects == [
        f"An experiment has started on {proposal.reference}",
        f"What was learned from {proposal.reference} is published",
    ]
    assert "Result: Not met." in told(bob)[1][1]


@pytest.mark.django_db
def test_the_actor_and_the_authors_are_not_told_as_followers(alice, bob, rita, lena):
    proposal = submitted(alice)
    services.follow_add(proposal=proposal, user=rita)  # a reviewer may follow too

    services.proposal_transition(
        proposal=proposal, actor=rita, action="accept", data={"assessors": [rita.pk]}
    )

    assert told(rita) == []
    assert told(alice) == []


@pytest.mark.django_db
def test_a_follower_who_can_no_longer_see_the_proposal_is_told_nothing(
    alice, bob, hugo, rita, ravi
):
    proposal = submitted(alice)
    services.follow_add(proposal=proposal, user=bob)
    services.follow_add(proposal=proposal, user=ravi)
    # Now only DfE (and collaborating departments) may see it: Bob at the Home Office cannot.
    services.proposal_update(
        proposal=proposal, actor=alice, data={"visibility": Visibility.DEPARTMENT}
    )

    services.proposal_transition(
        proposal=proposal, actor=rita, action="accept", data={"assessors": [rita.pk]}
    )

    assert told(bob) == []
    assert [s for s, _ in told(ravi)] == [f"Update on {proposal.reference}: in review"]


@pytest.mark.django_db
def test_a_follower_who_moved_department_is_told_nothing(alice, amir, rita, lena):
    proposal = submitted(alice, visibility=Visibility.DEPARTMENT)
    follower = rita
    services.follow_add(proposal=proposal, user=follower)
    follower.department = Department.objects.get(slug="home-office")
    follower.save(update_fields=["department"])

    assert selectors.followers_who_may_see(proposal) == []


@pytest.mark.django_db
def test_followers_who_may_see_takes_two_queries(alice, bob, amir, rita, ravi, lena, hugo):
    proposal = submitted(alice)
    for person in (bob, amir, rita, ravi, lena, hugo):
        services.follow_add(proposal=proposal, user=person)
    services.proposal_update(
        proposal=proposal, actor=alice, data={"visibility": Visibility.DEPARTMENT}
    )

    with CaptureQueriesContext(connection) as queries:
        followers = selectors.followers_who_may_see(proposal)

    assert [u.email for u in followers] == [
        "amir@dfe.example",
        "rita@dfe.example",
        "ravi@dfe.example",
        "lena@dfe.example",
    ]
    assert len(queries) == 2


@pytest.mark.django_db
def test_unfollow_stops_the_notifications(alice, bob, rita):
    proposal = submitted(alice)
    services.follow_add(proposal=proposal, user=bob)

    services.follow_remove(proposal=proposal, user=bob)
    services.proposal_transition(
        proposal=proposal, actor=rita, action="accept", data={"assessors": [rita.pk]}
    )

    assert told(bob) == []
    assert AuditEvent.objects.filter(action="unfollow", actor=bob).count() == 1


@pytest.mark.django_db
def test_support_and_comment_with_follow_follow_it(alice, bob, hugo):
    proposal = submitted(alice)

    services.support_add(proposal=proposal, user=bob, follow=True)
    services.comment_add(proposal=proposal, author=hugo, body="We did this", follow=True)
    services.comment_add(proposal=proposal, author=alice, body="Thanks", follow=True)

    assert sorted(Follow.objects.values_list("user__email", flat=True)) == [
        "bob@homeoffice.example",
        "hugo@homeoffice.example",
    ]


@pytest.mark.django_db
def test_support_without_follow_follows_nothing(alice, bob):
    proposal = submitted(alice)

    services.support_add(proposal=proposal, user=bob)

    assert not Follow.objects.exists()


@pytest.mark.django_db
def test_follower_turned_off_hears_nothing(alice, bob, rita):
    proposal = submitted(alice)
    services.follow_add(proposal=proposal, user=bob)
    notifications.preferences_set(user=bob, choices={FOLLOWED: "off"})

    services.proposal_transition(
        proposal=proposal, actor=rita, action="accept", data={"assessors": [rita.pk]}
    )

    assert told(bob) == []


# --- the proposal page: the button and the boxes, without JavaScript -----------------------


def _api_client(user) -> APIClient:
    _, key = services.api_token_create(user=user, name="follow", scope=TokenScope.WRITE)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


@pytest.mark.django_db
def test_page_follow_and_stop_following(client, alice, bob):
    proposal = submitted(alice)
    client.force_login(bob)
    url = proposal.get_absolute_url()

    before = client.get(url).content.decode()
    followed = client.post(f"{url}follow/")
    after = client.get(url).content.decode()
    stopped = client.post(f"{url}follow/stop/")

    assert f'action="{url}follow/"' in before
    assert "Follow this proposal" in before
    assert followed.status_code == 302
    assert followed["Location"] == f"{url}#follow"
    assert "You follow this proposal." in after
    assert f'action="{url}follow/stop/"' in after
    assert "Stop following" in after
    # Already following: the support and comment forms no longer offer the box.
    assert 'name="follow"' not in after
    assert stopped.status_code == 302
    assert not Follow.objects.exists()


@pytest.mark.django_db
def test_page_offers_no_follow_to_authors_or_analysts(client, alice, ana):
    proposal = submitted(alice)

    for person in (alice, ana):
        client.force_login(person)
        html = client.get(proposal.get_absolute_url()).content.decode()
        assert "Follow this proposal" not in html
        assert "Tell me what happens to this proposal" not in html


@pytest.mark.django_db
def test_page_support_with_the_box_ticked_follows(client, alice, bob):
    proposal = submitted(alice)
    client.force_login(bob)
    url = proposal.get_absolute_url()

    html = client.get(url).content.decode()
    response = client.post(f"{url}support/", {"follow": "on"}, follow=True)

    assert 'id="id_support_follow" name="follow" type="checkbox"' in html
    assert '<label class="govuk-label govuk-checkboxes__label" for="id_support_follow">' in html
    assert "Tell me what happens to this proposal" in html
    assert Follow.objects.filter(proposal=proposal, user=bob).exists()
    assert "You support" in response.content.decode()
    assert "we will tell you what happens to it" in response.content.decode()


@pytest.mark.django_db
def test_page_support_without_the_box_does_not_follow(client, alice, bob):
    proposal = submitted(alice)
    client.force_login(bob)

    client.post(f"{proposal.get_absolute_url()}support/")

    assert not Follow.objects.exists()


@pytest.mark.django_db
def test_page_comment_with_the_box_ticked_follows_and_an_error_keeps_it(client, alice, bob):
    proposal = submitted(alice)
    client.force_login(bob)
    url = proposal.get_absolute_url()

    empty = client.post(f"{url}comments/", {"body": "", "follow": "on"})
    client.post(f"{url}comments/", {"body": "We did this", "follow": "on"})

    html = empty.content.decode()
    assert empty.status_code == 400
    assert "Enter a comment" in html
    assert 'id="id_follow" name="follow" type="checkbox" value="on" checked' in html
    assert list(Follow.objects.values_list("user__email", flat=True)) == ["bob@homeoffice.example"]


@pytest.mark.django_db
def test_page_follow_refused_for_the_author(client, alice):
    proposal = submitted(alice)
    client.force_login(alice)

    response = client.post(f"{proposal.get_absolute_url()}follow/")

    assert response.status_code == 403
    assert "You cannot use “Follow this proposal”" in response.content.decode()


@pytest.mark.django_db
def test_a_followed_change_is_listed_on_the_notifications_page(client, alice, bob, rita):
    proposal = submitted(alice)
    services.follow_add(proposal=proposal, user=bob)
    services.proposal_transition(
        proposal=proposal, actor=rita, action="accept", data={"assessors": [rita.pk]}
    )
    client.force_login(bob)

    html = client.get("/account/notifications/").content.decode()

    assert f"Update on {proposal.reference}: in review" in html
    assert "has been accepted for review" in html
    assert 'name="followed_proposal_changed" type="radio" value="off"' in html


# --- the API ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_api_follow_get_post_delete(alice, bob):
    proposal = submitted(alice)
    api = _api_client(bob)
    path = f"/api/v1/proposals/{proposal.reference}/follow/"

    assert api.get(path).json() == {"following": False}
    posted = api.post(path)
    assert (posted.status_code, posted.json()) == (201, {"following": True})
    assert api.get(path).json() == {"following": True}
    deleted = api.delete(path)
    assert (deleted.status_code, deleted.json()) == (200, {"following": False})
    assert not Follow.objects.exists()


@pytest.mark.django_db
def test_api_support_and_comment_accept_follow(alice, bob, hugo):
    proposal = submitted(alice)
    base = f"/api/v1/proposals/{proposal.reference}/"

    supported = _api_client(bob).post(f"{base}supports/", {"follow": True}, format="json")
    commented = _api_client(hugo).post(
        f"{base}comments/", {"body": "We did this", "follow": True}, format="json"
    )
    plain = _api_client(alice).post(f"{base}comments/", {"body": "Thanks"}, format="json")

    assert (supported.status_code, supported.json()) == (
        201,
        {"count": 1, "supported_by_you": True},
    )
    assert commented.status_code == plain.status_code == 201
    assert sorted(Follow.objects.values_list("user__email", flat=True)) == [
        "bob@homeoffice.example",
        "hugo@homeoffice.example",
    ]


@pytest.mark.django_db
def test_api_support_still_takes_no_body(alice, bob):
    proposal = submitted(alice)

    response = _api_client(bob).post(f"/api/v1/proposals/{proposal.reference}/supports/")

    assert response.status_code == 201
    assert not Follow.objects.exists()


@pytest.mark.django_db
def test_api_support_follow_must_be_true_or_false(alice, bob):
    proposal = submitted(alice)

    response = _api_client(bob).post(
        f"/api/v1/proposals/{proposal.reference}/supports/", {"follow": "perhaps"}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["errors"] == {"follow": ["Must be true or false."]}
    assert not Follow.objects.exists()
