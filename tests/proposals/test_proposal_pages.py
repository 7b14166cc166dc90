"""The proposal page, Find proposals and your home: content per role, visibility,
comments and support, and a fixed number of queries whatever the size."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from proposals import services
from proposals.enums import Status, Visibility
from proposals.models import Comment, Notification, Proposal, Support, Theme
from proposals.templatetags.govuk import govuk_datetime
from tests.factories import ProposalFactory, UserFactory
from tests.pages import page_title, title_of
from tests.proposals.pages import PNG, draft, html, submitted

pytestmark = pytest.mark.django_db


def queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(captured)


# --- the proposal page -------------------------------------------------------------------


def test_proposal_page_shows_answers_status_and_timeline(client, alice, amir):
    proposal = submitted(alice)
    client.force_login(amir)

    response = client.get(f"/proposals/{proposal.reference}/")

    body = html(response)
    assert title_of(response) == page_title(f"{proposal.title} ({proposal.reference})")
    assert '<strong class="govuk-tag govuk-tag--blue">Submitted</strong>' in body
    assert "Caseworkers retype 40,000 paper forms a year" in body
    assert "Alice Adams: Submitted the proposal" in body
    # A colleague sees the submission but not the author-only draft history.
    assert "Started the draft" not in body


def test_proposal_page_in_lower_case_redirects_to_the_reference(client, alice):
    proposal = submitted(alice)
    client.force_login(alice)

    response = client.get(f"/proposals/{proposal.reference.lower()}/")

    assert response.status_code == 302
    assert response["Location"] == f"/proposals/{proposal.reference}/"


def test_author_sees_their_actions_and_others_do_not(client, alice, amir):
    proposal = submitted(alice)
    client.force_login(alice)
    mine = html(client.get(f"/proposals/{proposal.reference}/"))
    client.force_login(amir)
    theirs = html(client.get(f"/proposals/{proposal.reference}/"))

    assert f'href="/proposals/{proposal.reference}/withdraw/"' in mine
    assert "Change your answers" in mine
    assert "/withdraw/" not in theirs
    assert "Change your answers" not in theirs


def test_draft_page_offers_check_answers_and_delete(client, alice):
    proposal = draft(alice)
    client.force_login(alice)

    body = html(client.get(f"/proposals/{proposal.reference}/"))

    assert f'href="/proposals/{proposal.reference}/check/"' in body
    assert "Check your answers and submit" in body
    assert f'href="/proposals/{proposal.reference}/delete/"' in body
    assert "This is a draft. Only you can see it." in body


def test_merged_proposal_links_to_the_survivor(client, alice, lena):
    survivor = submitted(alice, title="Survivor")
    duplicate = submitted(alice, title="Duplicate")
    services.proposal_transition(
        proposal=duplicate, actor=lena, action="merge", data={"into": survivor.reference}
    )
    client.force_login(alice)

    body = html(client.get(f"/proposals/{duplicate.reference}/"))

    assert f'href="/proposals/{survivor.reference}/">Survivor ({survivor.reference})' in body


def test_decision_and_rationale_are_shown(client, alice, rita, bob):
    proposal = submitted(alice)
    services.proposal_transition(
        proposal=proposal,
        actor=rita,
        action="reject_at_triage",
        data={"rationale": "Already done by HMRC"},
    )
    client.force_login(bob)

    body = html(client.get(f"/proposals/{proposal.reference}/"))

    assert "Already done by HMRC" in body
    assert '<dd class="govuk-summary-list__value">Rejected</dd>' in body
    assert "Propose again" not in body


def test_comment_add_and_edit_within_fifteen_minutes(client, alice, bob):
    proposal = submitted(alice)
    client.force_login(bob)

    added = client.post(f"/proposals/{proposal.reference}/comments/", {"body": "We do this too"})
    comment = Comment.objects.get()
    edited = client.post(
        f"/proposals/{proposal.reference}/comments/{comment.pk}/edit/", {"body": "We did too"}
    )

    comment.refresh_from_db()
    assert added.status_code == 302
    assert edited.status_code == 302
    assert comment.body == "We did too"
    assert comment.edited_at is not None


def test_comment_edit_after_fifteen_minutes_is_forbidden(client, alice, bob):
    proposal = submitted(alice)
    comment = services.comment_add(proposal=proposal, author=bob, body="Old")
    Comment.objects.filter(pk=comment.pk).update(
        created_at=timezone.now() - dt.timedelta(minutes=16)
    )
    client.force_login(bob)

    response = client.post(
        f"/proposals/{proposal.reference}/comments/{comment.pk}/edit/", {"body": "New"}
    )
    page = html(client.get(f"/proposals/{proposal.reference}/"))

    assert response.status_code == 403
    assert f"/comments/{comment.pk}/edit/" not in page


def test_someone_elses_comment_cannot_be_edited(client, alice, bob, amir):
    proposal = submitted(alice)
    comment = services.comment_add(proposal=proposal, author=bob, body="Mine")
    client.force_login(amir)

    assert (
        client.post(
            f"/proposals/{proposal.reference}/comments/{comment.pk}/edit/", {"body": "Hijack"}
        ).status_code
        == 403
    )


def test_empty_and_too_long_comments_are_refused(client, alice, bob):
    proposal = submitted(alice)
    client.force_login(bob)

    empty = client.post(f"/proposals/{proposal.reference}/comments/", {"body": " "})
    long = client.post(f"/proposals/{proposal.reference}/comments/", {"body": "x" * 5001})

    assert empty.status_code == 400
    assert '<a href="#id_body">Enter a comment</a>' in html(empty)
    assert "Comment must be 5,000 characters or fewer" in html(long)
    assert Comment.objects.count() == 0


def test_support_once_and_withdraw_it(client, alice, bob):
    proposal = submitted(alice)
    client.force_login(bob)

    client.post(f"/proposals/{proposal.reference}/support/")
    client.post(f"/proposals/{proposal.reference}/support/")
    page = html(client.get(f"/proposals/{proposal.reference}/"))
    client.post(f"/proposals/{proposal.reference}/support/withdraw/")

    assert "1 person supports this proposal." in page
    assert "Withdraw your support" in page
    assert Support.objects.count() == 0


def test_authors_cannot_support_their_own_proposal(client, alice):
    proposal = submitted(alice)
    client.force_login(alice)

    response = client.post(f"/proposals/{proposal.reference}/support/")

    assert response.status_code == 403
    assert "Support this proposal" not in html(client.get(f"/proposals/{proposal.reference}/"))


def test_support_a_draft_is_not_found_for_others(client, alice, bob):
    proposal = draft(alice)
    client.force_login(bob)

    assert client.post(f"/proposals/{proposal.reference}/support/").status_code == 404


def test_proposal_page_runs_a_fixed_number_of_queries(client, alice, bob, amir):
    proposal = submitted(alice, visibility=Visibility.GOVERNMENT)
    proposal.themes.set(Theme.objects.all()[:2])
    client.force_login(alice)
    services.attachment_add(
        proposal=proposal,
        actor=alice,
        upload=_file("a.png", PNG),
    )
    services.comment_add(proposal=proposal, author=bob, body="One")
    client.force_login(bob)
    small = queries(client, f"/proposals/{proposal.reference}/")
    for n in range(30):
        person = UserFactory.create(email=f"p{n}@dfe.example")
        services.comment_add(proposal=proposal, author=person, body=f"Comment {n}")
        services.support_add(proposal=proposal, user=person)
    services.attachment_add(proposal=proposal, actor=alice, upload=_file("b.png", PNG))

    large = queries(client, f"/proposals/{proposal.reference}/")

    assert small == large
    # 15, the review panel's experiments, the outcomes each may show (selectors.outcomes_of),
    # adoptions both ways: where it was adopted from, and who adopted its lessons, and
    # "Related" (similarity: the vectors changed since, the title's words, the visible
    # proposals and the visible lessons near it, asked whether or not any is near).
    assert large == 24


def _file(name: str, content: bytes):
    return SimpleUploadedFile(name, content)


# --- every page of a proposal the user may not see is not found ---------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", ""),
        ("get", "edit/about/"),
        ("get", "edit/attachments/"),
        ("get", "check/"),
        ("get", "submitted/"),
        ("get", "delete/"),
        ("get", "withdraw/"),
        ("get", "resubmit/"),
        ("post", "propose-again/"),
        ("get", "attachments/{attachment}/"),
        ("post", "attachments/{attachment}/remove/"),
        ("post", "comments/"),
        ("get", "comments/{comment}/edit/"),
        ("post", "support/"),
        ("post", "support/withdraw/"),
    ],
)
def test_department_only_proposal_is_not_found_on_every_page(
    client, alice, amir, bob, method, path
):
    proposal = draft(alice, visibility=Visibility.DEPARTMENT)
    attachment = services.attachment_add(proposal=proposal, actor=alice, upload=_file("a.png", PNG))
    proposal = services.proposal_transition(proposal=proposal, actor=alice, action="submit")
    comment = services.comment_add(proposal=proposal, author=amir, body="Colleague")
    client.force_login(bob)
    url = f"/proposals/{proposal.reference}/" + path.format(
        attachment=attachment.pk, comment=comment.pk
    )

    response = getattr(client, method)(url)

    assert response.status_code == 404
    assert "Page not found" in html(response)


def test_an_unknown_reference_is_not_found(client, alice):
    client.force_login(alice)

    assert client.get("/proposals/DFE-2026-9999/").status_code == 404


# --- find proposals -------------------------------------------------------------------------


def test_find_a_reference_typed_in_goes_to_it(client, alice, bob):
    proposal = submitted(alice)
    client.force_login(bob)

    response = client.get("/proposals/", {"q": f"  {proposal.reference.lower()} "})

    assert response.status_code == 302
    assert response["Location"] == f"/proposals/{proposal.reference}/"


def test_find_a_reference_the_user_may_not_see_finds_nothing(client, alice, bob):
    proposal = submitted(alice, visibility=Visibility.DEPARTMENT)
    client.force_login(bob)

    response = client.get("/proposals/", {"q": proposal.reference})

    assert response.status_code == 200
    assert "0 proposals" in html(response)
    assert proposal.title not in html(response)


def test_find_by_a_word_of_the_problem(client, alice, bob):
    match = submitted(alice, problem="Teachers spend evenings marking homework")
    other = submitted(alice, title="Fleet", problem="Diesel vans")
    client.force_login(bob)

    body = html(client.get("/proposals/", {"q": "homework"}))

    assert match.reference in body
    assert other.reference not in body
    assert "1 proposal<" in body


def test_find_shows_only_what_the_user_may_see(client, alice, bob):
    shared = submitted(alice, title="Shared idea")
    secret = submitted(alice, title="Secret idea", visibility=Visibility.DEPARTMENT)
    mine = draft(alice, title="Alice draft")
    client.force_login(bob)

    body = html(client.get("/proposals/"))

    assert shared.reference in body
    assert secret.reference not in body
    assert mine.reference not in body


def test_find_filters_by_status_department_and_theme(client, alice, bob, home_office):
    ai = Theme.objects.get(slug="ai")
    dfe_ai = submitted(alice, title="DfE AI")
    dfe_ai.themes.set([ai])
    dfe_plain = submitted(alice, title="DfE plain")
    ho = submitted(bob, title="HO thing")
    withdrawn = submitted(bob, title="HO withdrawn")
    services.proposal_transition(proposal=withdrawn, actor=bob, action="withdraw")
    client.force_login(bob)

    by_dept = html(client.get("/proposals/", {"department": "home-office"}))
    by_theme = html(client.get("/proposals/", {"theme": "ai"}))
    by_status = html(client.get("/proposals/", {"status": ["withdrawn"]}))

    assert ho.reference in by_dept and dfe_ai.reference not in by_dept
    assert dfe_ai.reference in by_theme and dfe_plain.reference not in by_theme
    assert withdrawn.reference in by_status and ho.reference not in by_status


def test_find_sorts_by_most_supported(client, alice, bob, amir):
    quiet = submitted(alice, title="Quiet")
    popular = submitted(alice, title="Popular")
    services.support_add(proposal=popular, user=bob)
    services.support_add(proposal=popular, user=amir)
    client.force_login(bob)

    body = html(client.get("/proposals/", {"sort": "supported"}))

    assert body.index(popular.reference) < body.index(quiet.reference)
    assert "2 supports" in body


def test_find_with_a_bad_filter_says_so(client, bob):
    client.force_login(bob)

    response = client.get("/proposals/", {"department": "nowhere", "sort": "random"})

    assert response.status_code == 400
    assert "Select a department from the list" in html(response)


def test_find_paginates_twenty_at_a_time(client, alice, bob):
    ProposalFactory.create_batch(25, submitter=alice)
    client.force_login(bob)

    first = html(client.get("/proposals/"))
    second = html(client.get("/proposals/", {"page": 2}))

    assert "25 proposals" in first
    assert first.count('<h3 class="govuk-heading-s') == 20
    assert second.count('<h3 class="govuk-heading-s') == 5
    assert 'aria-label="Page 2"' in first


def test_find_runs_a_fixed_number_of_queries(client, alice, bob):
    ProposalFactory.create_batch(5, submitter=alice)
    client.force_login(bob)
    small = queries(client, "/proposals/?sort=supported&theme=ai&status=submitted")
    small_plain = queries(client, "/proposals/")
    ProposalFactory.create_batch(55, submitter=alice)

    large = queries(client, "/proposals/?sort=supported&theme=ai&status=submitted")
    large_plain = queries(client, "/proposals/")

    assert (small, small_plain) == (large, large_plain)
    assert large_plain == 10  # the support counts are a column now, not a query


# --- your home ----------------------------------------------------------------------------------


def test_home_lists_your_proposals_and_what_waits_for_you(client, alice, rita):
    mine = submitted(alice, title="Submitted one")
    unfinished = draft(alice, title="Unfinished")
    asked = submitted(alice, title="Asked")
    services.proposal_transition(
        proposal=asked, actor=rita, action="request_info", data={"message": "More"}
    )
    client.force_login(alice)

    body = html(client.get("/"))

    assert mine.reference in body
    assert "Finish your draft: <a" in body and unfinished.reference in body
    assert "More information requested: <a" in body
    assert '<strong class="govuk-tag govuk-tag--yellow">More information needed</strong>' in body


def test_home_counts_unread_notifications(client, alice):
    submitted(alice)  # notifies alice that it was submitted
    client.force_login(alice)

    body = html(client.get("/"))

    assert Notification.objects.filter(recipient=alice, read_at__isnull=True).count() == 1
    assert '<a class="govuk-link" href="/account/notifications/">1 unread notification</a>' in body


def test_home_for_a_reviewer_counts_proposals_waiting_for_triage(client, alice, rita):
    submitted(alice)
    submitted(alice)
    client.force_login(rita)

    body = html(client.get("/"))

    assert '<a class="govuk-link" href="/review/">2 proposals waiting for triage</a>' in body


def test_home_runs_a_fixed_number_of_queries(client, alice):
    draft(alice)
    client.force_login(alice)
    small = queries(client, "/")
    for n in range(40):
        draft(alice, title=f"Draft {n}")

    large = queries(client, "/")

    # 12: your proposals and those waiting for you are each two queries, the rows
    # you submitted and those you co-author, each stopped by its LIMIT
    # (selectors.newest_authored), so the page costs the same at a million rows.
    assert (small, large) == (large, 12)


def test_home_for_an_assessor_lists_assessments_to_do(client, alice, rita, ravi):
    proposal = submitted(alice)
    services.proposal_transition(
        proposal=proposal, actor=rita, action="accept", data={"assessors": [ravi.pk]}
    )
    client.force_login(ravi)

    body = html(client.get("/"))

    assert "Assess <a" in body and proposal.reference in body


def test_proposal_status_values_are_the_spec(client):
    assert [s.value for s in Status] == [
        "draft",
        "submitted",
        "more_info",
        "in_review",
        "approved",
        "rejected",
        "withdrawn",
        "merged",
        "experimenting",
        "completed",
    ]
    assert Proposal._meta.get_field("status").default == "draft"


def test_find_ranks_title_matches_first_and_stems_words(client, alice, bob):
    in_problem = submitted(alice, title="Fleet", problem="We could fly drones over the estate")
    in_title = submitted(alice, title="Drones survey school roofs", problem="Surveys are slow")
    client.force_login(bob)

    body = html(client.get("/proposals/", {"q": "drone"}))

    assert "2 proposals" in body
    assert body.index(in_title.reference) < body.index(in_problem.reference)


def test_find_default_order_is_recently_updated(client, alice, bob):
    older = submitted(alice, title="Older")
    newer = submitted(alice, title="Newer")
    services.proposal_update(proposal=older, actor=alice, data={"summary": "Changed"})
    client.force_login(bob)

    body = html(client.get("/proposals/"))

    assert body.index(older.reference) < body.index(newer.reference)


def test_govuk_datetime_reads_as_gov_uk_style():
    moment = dt.datetime(2026, 11, 28, 13, 5, tzinfo=dt.UTC)

    assert govuk_datetime(moment) == "28 November 2026 at 1:05pm"
    assert govuk_datetime(moment.replace(hour=0)) == "28 November 2026 at 12:05am"


@pytest.mark.parametrize(
    ("viewer", "visibility", "status"),
    [
        ("alice", Visibility.GOVERNMENT, 200),
        ("amir", Visibility.GOVERNMENT, 200),
        ("rita", Visibility.GOVERNMENT, 200),
        ("bob", Visibility.GOVERNMENT, 200),
        ("ana", Visibility.GOVERNMENT, 200),
        ("alice", Visibility.DEPARTMENT, 200),
        ("amir", Visibility.DEPARTMENT, 200),
        ("rita", Visibility.DEPARTMENT, 200),
        ("bob", Visibility.DEPARTMENT, 404),
        ("hugo", Visibility.DEPARTMENT, 404),
        ("ana", Visibility.DEPARTMENT, 404),
    ],
)
def test_proposal_page_by_role_and_visibility(client, request, alice, viewer, visibility, status):
    proposal = submitted(alice, visibility=visibility)
    client.force_login(request.getfixturevalue(viewer))

    assert client.get(f"/proposals/{proposal.reference}/").status_code == status


@pytest.mark.parametrize("viewer", ["amir", "rita", "bob", "ana"])
def test_a_draft_is_not_found_for_anyone_but_its_author(client, request, alice, viewer):
    proposal = draft(alice)
    client.force_login(request.getfixturevalue(viewer))

    assert client.get(f"/proposals/{proposal.reference}/").status_code == 404


def test_analyst_reads_but_cannot_comment_support_or_propose(client, alice, ana):
    proposal = submitted(alice)
    client.force_login(ana)

    page = html(client.get(f"/proposals/{proposal.reference}/"))
    home = html(client.get("/"))

    # Analysts are read-only (SPEC §1): no comment form, no support button.
    assert "Add comment" not in page
    assert "Support this proposal" not in page
    assert 'href="/proposals/new/"' not in home
    assert client.get("/proposals/new/").status_code == 403


def test_signed_out_visitors_are_sent_to_sign_in_from_every_page(client, alice):
    proposal = submitted(alice)

    for url in [
        "/proposals/",
        f"/proposals/{proposal.reference}/",
        "/challenges/",
        "/account/tokens/",
    ]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/accounts/login/?next="), url
