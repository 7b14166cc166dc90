"""Page behaviour beyond permissions: validation messages, settings, feedback,
experiments, lessons filters, charts and the proposal page's review panel."""

from __future__ import annotations

import itertools
import re
from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from django.template.loader import render_to_string
from django.test import Client

from proposals import services
from proposals.enums import ExperimentStatus, Status
from proposals.models import Attachment, AuditEvent, Criterion, Outcome
from tests.proposals.review_world import (
    approved,
    assess,
    in_review,
    planned,
    submitted,
    with_outcome,
)


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.django_db
def test_triage_without_a_rationale_shows_the_error_and_changes_nothing(alice, rita):
    proposal = submitted(alice)
    response = _client(rita).post(
        f"/proposals/{proposal.reference}/triage/",
        {"action": "reject_at_triage", "reject-rationale": ""},
    )
    assert response.status_code == 200
    assert "Enter the reason for rejecting the proposal" in response.content.decode()
    proposal.refresh_from_db()
    assert proposal.status == Status.SUBMITTED


@pytest.mark.django_db
def test_request_more_information_sends_it_back_with_the_message(alice, rita):
    proposal = submitted(alice)
    response = _client(rita).post(
        f"/proposals/{proposal.reference}/triage/",
        {"action": "request_info", "info-message": "What would it cost?"},
    )
    assert response.status_code == 302
    proposal.refresh_from_db()
    assert proposal.status == Status.MORE_INFO
    assert proposal.decisions.get().rationale == "What would it cost?"


@pytest.mark.django_db
def test_bulk_accept_assigns_every_selected_proposal(alice, rita, ravi):
    first, second, left = submitted(alice), submitted(alice), submitted(alice)
    response = _client(rita).post(
        "/review/", {"references": [first.reference, second.reference], "assessors": [ravi.pk]}
    )
    assert response.status_code == 302
    for proposal, status in (
        (first, Status.IN_REVIEW),
        (second, Status.IN_REVIEW),
        (left, Status.SUBMITTED),
    ):
        proposal.refresh_from_db()
        assert proposal.status == status
    assert sorted(ravi.assignments.values_list("proposal__reference", flat=True)) == sorted(
        [first.reference, second.reference]
    )


@pytest.mark.django_db
def test_bulk_accept_with_nothing_ticked_links_to_the_first_checkbox(alice, rita, ravi):
    submitted(alice), submitted(alice)

    response = _client(rita).post("/review/", {"assessors": [ravi.pk]})

    html = response.content.decode()
    assert response.status_code == 200
    assert '<a href="#id_references_0">Select at least one proposal to accept</a>' in html
    # The link's target exists: the first checkbox of the queue.
    assert re.search(r'<input[^>]*id="id_references_0"[^>]*name="references"', html)
    # And the checkboxes carry the error inline (GOV.UK: error message + describedby).
    assert 'id="id_references-error"' in html
    described = r'<input[^>]*aria-describedby="id_references-error"[^>]*name="references"'
    assert re.search(described, html)
    assert "govuk-form-group--error" in html


@pytest.mark.django_db
def test_bulk_accept_naming_the_author_as_assessor_says_which_proposal_and_who(alice, rita, ravi):
    own = submitted(rita)

    response = _client(ravi).post(
        "/review/", {"references": [own.reference], "assessors": [rita.pk, ravi.pk]}
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert f"Rita Reviewer cannot assess {own.reference} because they wrote it" in html
    own.refresh_from_db()
    assert own.status == Status.SUBMITTED


@pytest.mark.django_db
def test_approve_needs_the_departments_minimum_assessments(alice, rita, ravi, lena, dfe):
    dfe.min_assessments = 2
    dfe.save()
    proposal = in_review(alice, rita, [rita, ravi])
    assess(proposal, rita, 4)
    response = _client(lena).post(
        f"/proposals/{proposal.reference}/decide/", {"decision": "approve", "rationale": "Yes"}
    )
    assert response.status_code == 200
    assert "needs 2 completed assessments before a decision; it has 1" in response.content.decode()


@pytest.mark.django_db
def test_declaring_a_conflict_ends_the_assessment(alice, rita, ravi):
    proposal = in_review(alice, rita, [ravi])
    url = f"/proposals/{proposal.reference}/assess/"
    response = _client(ravi).post(url, {"conflict": "yes", "conflict_details": ""})
    assert "Describe the conflict of interest" in response.content.decode()
    _client(ravi).post(url, {"conflict": "yes", "conflict_details": "My team wrote it"})
    page = _client(ravi).get(url).content.decode()
    assert "You declared a conflict of interest" in page
    assert "Submit assessment" not in page


@pytest.mark.django_db
def test_released_feedback_reaches_the_author_without_assessor_names(alice, rita, lena, bob):
    proposal = approved(alice, rita, lena)
    panel = render_to_string(
        "proposals/includes/review_panel.html", {"proposal": proposal, "user": alice}
    )
    assert "Feedback from the assessors" not in panel
    response = _client(lena).post(f"/proposals/{proposal.reference}/feedback/")
    assert response.status_code == 302
    proposal.refresh_from_db()
    author_panel = render_to_string(
        "proposals/includes/review_panel.html", {"proposal": proposal, "user": alice}
    )
    assert "Feedback from the assessors" in author_panel
    assert "Rita Reviewer" not in author_panel
    reviewer_panel = render_to_string(
        "proposals/includes/review_panel.html", {"proposal": proposal, "user": rita}
    )
    assert "Rita Reviewer" in reviewer_panel
    other_panel = render_to_string(
        "proposals/includes/review_panel.html", {"proposal": proposal, "user": bob}
    )
    assert "Comment" not in other_panel


@pytest.mark.django_db
def test_released_feedback_without_criterion_comments_has_no_empty_list(alice, rita, lena):
    proposal = in_review(alice, rita, [rita])
    services.assessment_declare_conflict(proposal=proposal, assessor=rita, conflict=False)
    criteria = Criterion.objects.filter(department_id=proposal.department_id, active=True)
    services.assessment_submit(
        proposal=proposal,
        assessor=rita,
        scores={c.pk: (4, "") for c in criteria},
        recommendation="fund",
        comment="",
    )
    services.proposal_transition(
        proposal=proposal, actor=lena, action="approve", data={"rationale": "Go"}
    )
    _client(lena).post(f"/proposals/{proposal.reference}/feedback/")
    proposal.refresh_from_db()

    html = _client(alice).get(f"/proposals/{proposal.reference}/").content.decode()

    assert "Feedback from the assessors" in html
    assert not re.search(r"<ul[^>]*>\s*</ul>", html)
    assert "No comments." in html


@pytest.mark.django_db
def test_release_page_promises_comments_not_scores_and_keeps_heading_order(alice, rita, lena):
    proposal = approved(alice, rita, lena)

    html = _client(lena).get(f"/proposals/{proposal.reference}/feedback/").content.decode()

    main = html[html.index("<main") :]
    levels = [int(level) for level in re.findall(r"<h([1-6])\b", main)]
    assert levels[0] == 1
    assert all(b - a <= 1 for a, b in itertools.pairwise(levels)), levels
    assert "comments and scores" not in html
    assert "will not see the scores" in html


@pytest.mark.django_db
def test_assessor_sees_benefits_estimate_attachments_and_a_link_to_the_proposal(alice, rita, ravi):
    # "Value for money" cannot be scored blind: the page shows what the author claimed.
    proposal = in_review(alice, rita, [ravi], estimated_benefit_gbp=120000)
    Attachment.objects.create(
        proposal=proposal,
        file=ContentFile(b"%PDF-1.4", name="business-case.pdf"),
        original_name="business-case.pdf",
        content_type="application/pdf",
        size=8,
    )
    client = _client(ravi)
    url = f"/proposals/{proposal.reference}/assess/"
    client.post(url, {"conflict": "no"})

    html = client.get(url).content.decode()

    assert "Submit assessment" in html
    assert "3,000 hours a year" in html  # expected benefits
    assert "£120,000 a year" in html
    attachment = proposal.attachments.get()
    assert f'href="/proposals/{proposal.reference}/attachments/{attachment.pk}/"' in html
    assert "business-case.pdf" in html
    assert f'href="/proposals/{proposal.reference}/"' in html


@pytest.mark.django_db
def test_department_settings_change_weights_add_a_criterion_and_are_audited(lena, dfe):
    criteria = list(Criterion.objects.filter(department=dfe))
    data = {"triage_target_days": "7", "min_assessments": "2", "moderation_threshold": "1.25"}
    for i, criterion in enumerate(criteria):
        data |= {
            f"criterion-{i}-id": str(criterion.pk),
            f"criterion-{i}-name": criterion.name,
            f"criterion-{i}-description": criterion.description,
            f"criterion-{i}-weight": "2" if i == 0 else str(criterion.weight),
            f"criterion-{i}-active": "on",
        }
    new = len(criteria)
    data |= {
        f"criterion-{new}-name": "Privacy",
        f"criterion-{new}-weight": "1.5",
        f"criterion-{new}-active": "on",
    }
    response = _client(lena).post("/department/settings/", data)
    assert response.status_code == 302
    dfe.refresh_from_db()
    assert (dfe.triage_target_days, dfe.min_assessments, dfe.moderation_threshold) == (
        7,
        2,
        Decimal("1.25"),
    )
    assert Criterion.objects.get(pk=criteria[0].pk).weight == Decimal(2)
    assert Criterion.objects.get(department=dfe, name="Privacy").weight == Decimal("1.5")
    event = AuditEvent.objects.get(action="configure_department")
    assert event.changes["triage_target_days"] == [10, 7]


@pytest.mark.django_db
def test_lead_makes_a_colleague_a_reviewer(lena, amir):
    response = _client(lena).post(
        f"/department/settings/people/{amir.pk}/role/", {"role": "reviewer"}
    )
    assert response.status_code == 302
    amir.refresh_from_db()
    assert amir.role == "reviewer"
    assert AuditEvent.objects.filter(action="set_role").count() == 1


@pytest.mark.django_db
def test_lead_cannot_change_a_role_in_another_department(lena, bob):
    response = _client(lena).post(f"/department/settings/people/{bob.pk}/role/", {"role": "lead"})
    assert response.status_code == 404
    bob.refresh_from_db()
    assert bob.role == "submitter"


@pytest.mark.django_db
def test_planning_an_experiment_without_metrics_says_add_one(alice, rita, lena):
    proposal = approved(alice, rita, lena)
    response = _client(lena).post(
        f"/proposals/{proposal.reference}/experiments/new/",
        {
            "title": "Pilot",
            "we_believe": "a",
            "will_result_in": "b",
            "we_will_know_when": "c",
            "lead": lena.pk,
            "starts_on-day": "1",
            "starts_on-month": "2",
            "starts_on-year": "2026",
            "ends_on-day": "1",
            "ends_on-month": "1",
            "ends_on-year": "2026",
        },
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "Add at least one metric" in page
    assert "End date must be the same as or after the start date" in page
    assert proposal.experiments.count() == 0


@pytest.mark.django_db
def test_stopping_early_then_recording_the_outcome(alice, rita, lena):
    proposal = approved(alice, rita, lena)
    experiment = planned(proposal, lena)
    client = _client(lena)
    assert client.post(f"/experiments/{experiment.pk}/start/").status_code == 302
    assert client.post(f"/experiments/{experiment.pk}/stop/", {"reason": "Cut"}).status_code == 302
    experiment.refresh_from_db()
    assert experiment.status == ExperimentStatus.STOPPED
    metric = experiment.metrics.get()
    response = client.post(
        f"/experiments/{experiment.pk}/outcome/",
        {
            f"actual_{metric.pk}": "not a number",
            "result": "inconclusive",
            "lessons": "Too short",
            "recommendation": "iterate",
        },
    )
    assert "Enter the actual value of “Hours retyping” as a number" in response.content.decode()
    response = client.post(
        f"/experiments/{experiment.pk}/outcome/",
        {
            f"actual_{metric.pk}": "95",
            "result": "inconclusive",
            "lessons": "Too short",
            "recommendation": "iterate",
            "publish": "on",
        },
    )
    assert response.status_code == 302
    outcome = Outcome.objects.get(experiment=experiment)
    assert (outcome.result, outcome.published) == ("inconclusive", True)


@pytest.mark.django_db
def test_lessons_filter_by_result_department_and_words(alice, rita, lena, bob, hugo):
    dfe_failure = with_outcome(planned(approved(alice, rita, lena), lena), lena, result="not_met")
    dfe_success = with_outcome(
        planned(approved(alice, rita, lena, title="Chatbot"), lena, title="Chatbot pilot"),
        lena,
        result="met",
    )
    with_outcome(
        planned(approved(alice, rita, lena), lena, title="Unpublished"), lena, publish=False
    )
    client = _client(bob)

    def titles(query: str) -> list[str]:
        page = client.get(f"/lessons/{query}").context["page_obj"]
        return sorted(o.experiment.title for o in page.object_list)

    assert titles("") == sorted([dfe_failure.experiment.title, dfe_success.experiment.title])
    assert titles("?result=not_met") == [dfe_failure.experiment.title]
    assert titles("?q=chatbot") == ["Chatbot pilot"]
    assert titles("?department=home-office") == []
    assert titles("?result=bogus").__len__() == 2  # an invalid filter is ignored, not a 500


@pytest.mark.django_db
def test_chart_is_svg_with_presentation_attributes_only(lena, alice, rita):
    approved(alice, rita, lena)
    response = _client(lena).get("/portfolio/charts/funnel.svg")
    body = response.content.decode()
    assert response["Content-Type"].startswith("image/svg+xml")
    assert "<style" not in body and "style=" not in body and "<script" not in body
    assert "Approved" in body
    assert _client(lena).get("/portfolio/charts/nope.svg").status_code == 404


@pytest.mark.django_db
def test_merge_moves_the_duplicate_and_says_where_it_went(alice, amir, lena, rita):
    keep = submitted(alice, title="Keep")
    duplicate = submitted(amir, title="Duplicate")
    services.support_add(proposal=duplicate, user=rita)
    response = _client(lena).post(
        f"/proposals/{duplicate.reference}/merge/", {"into": keep.reference}
    )
    assert response.status_code == 302
    duplicate.refresh_from_db()
    assert (duplicate.status, duplicate.merged_into_id) == (Status.MERGED, keep.pk)
    assert keep.supports.count() == 1
    response = _client(lena).post(f"/proposals/{keep.reference}/merge/", {"into": keep.reference})
    assert "A proposal cannot be merged into itself" in response.content.decode()


@pytest.mark.django_db
def test_triage_assigns_several_assessors_with_checkboxes(alice, rita, ravi, lena):
    proposal = submitted(alice)
    page = _client(rita).get(f"/proposals/{proposal.reference}/triage/").content.decode()
    assert page.count('type="checkbox" value=') == 3  # Lena, Ravi, Rita: the panel
    assert 'name="accept-assessors" type="radio"' not in page
    response = _client(rita).post(
        f"/proposals/{proposal.reference}/triage/",
        {"action": "accept", "accept-assessors": [rita.pk, ravi.pk]},
    )
    assert response.status_code == 302
    assert sorted(proposal.assignments.values_list("reviewer__email", flat=True)) == [
        "ravi@dfe.example",
        "rita@dfe.example",
    ]
