"""Who may open each review page and perform each action: role × department.

The people (tests/conftest.py): rita reviews for DfE, ravi is DfE's assigned
assessor, lena is DfE's lead, hugo reviews for the Home Office (another
department), amir is a DfE submitter who did not write these proposals, ana
is a cross-government analyst. Every proposal belongs to DfE and is visible
across government, so "other department" answers 403, not 404.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from proposals import services
from proposals.enums import Status, Visibility
from proposals.models import Proposal
from tests.proposals.review_world import World, assess, build_world, submitted

PEOPLE = ("rita", "ravi", "lena", "hugo", "amir", "ana")


@pytest.fixture
def world(alice, rita, ravi, lena, hugo, amir, ana) -> World:
    return build_world(alice=alice, rita=rita, ravi=ravi, lena=lena)


def _client_for(request: pytest.FixtureRequest, name: str) -> Client:
    client = Client()
    client.force_login(request.getfixturevalue(name))
    return client


# page → (url built from the world, the people who get 200; everyone else gets 403)
PAGES: dict[str, tuple[Any, set[str]]] = {
    "triage dashboard": (lambda w: "/review/", {"rita", "ravi", "lena", "hugo"}),
    "panel sheet": (lambda w: "/review/panel/", {"lena"}),
    "triage": (lambda w: f"/proposals/{w.submitted.reference}/triage/", {"rita", "ravi", "lena"}),
    "assess": (lambda w: f"/proposals/{w.in_review.reference}/assess/", {"ravi"}),
    "decide": (lambda w: f"/proposals/{w.in_review.reference}/decide/", {"lena"}),
    "merge": (lambda w: f"/proposals/{w.submitted.reference}/merge/", {"lena"}),
    "close": (lambda w: f"/proposals/{w.experimenting.reference}/close/", {"lena"}),
    "release feedback": (lambda w: f"/proposals/{w.approved.reference}/feedback/", {"lena"}),
    "plan experiment": (
        lambda w: f"/proposals/{w.approved.reference}/experiments/new/",
        {"lena"},
    ),
    "experiments": (lambda w: "/experiments/", set(PEOPLE)),
    "experiment": (lambda w: f"/experiments/{w.running.pk}/", set(PEOPLE)),
    "stop experiment": (lambda w: f"/experiments/{w.running.pk}/stop/", {"lena"}),
    "record outcome": (lambda w: f"/experiments/{w.running.pk}/outcome/", {"lena"}),
    "lessons": (lambda w: "/lessons/", set(PEOPLE)),
    "lesson": (lambda w: f"/lessons/{w.outcome.pk}/", set(PEOPLE)),
    "portfolio": (lambda w: "/portfolio/", {"lena", "ana"}),
    "portfolio chart": (lambda w: "/portfolio/charts/funnel.svg", {"lena", "ana"}),
    "department settings": (lambda w: "/department/settings/", {"lena"}),
}


@pytest.mark.django_db
@pytest.mark.parametrize("person", PEOPLE)
@pytest.mark.parametrize("page", list(PAGES))
def test_page_answers_by_role_and_department(request, world, page, person):
    url, allowed = PAGES[page]
    response = _client_for(request, person).get(url(world))
    assert response.status_code == (200 if person in allowed else 403), (page, person)


@pytest.mark.django_db
@pytest.mark.parametrize("page", list(PAGES))
def test_page_sends_anonymous_people_to_sign_in(client, world, page):
    url, _ = PAGES[page]
    response = client.get(url(world))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "suffix", ["triage/", "assess/", "decide/", "merge/", "close/", "feedback/", "experiments/new/"]
)
def test_department_only_proposal_is_404_for_other_departments(request, world, suffix):
    Proposal.objects.filter(department__slug="dfe").update(visibility=Visibility.DEPARTMENT)
    for name in ("hugo", "ana"):
        response = _client_for(request, name).get(
            f"/proposals/{world.submitted.reference}/{suffix}"
        )
        assert response.status_code == 404, name


# action → (method, url, data, the one person allowed, the status it reaches)
def _actions(w: World, people: dict[str, Any]) -> dict[str, tuple[str, dict[str, Any], str]]:
    return {
        "accept": (
            f"/proposals/{w.submitted.reference}/triage/",
            {"action": "accept", "accept-assessors": [people["ravi"].pk]},
            "rita",
        ),
        "request_info": (
            f"/proposals/{w.submitted.reference}/triage/",
            {"action": "request_info", "info-message": "Costs please"},
            "rita",
        ),
        "reject_at_triage": (
            f"/proposals/{w.submitted.reference}/triage/",
            {"action": "reject_at_triage", "reject-rationale": "Out of scope"},
            "rita",
        ),
        "bulk accept": (
            "/review/",
            {"references": [w.submitted.reference], "assessors": [people["ravi"].pk]},
            "rita",
        ),
        "declare no conflict": (
            f"/proposals/{w.in_review.reference}/assess/",
            {"conflict": "no"},
            "ravi",
        ),
        "decide": (
            f"/proposals/{w.approved.reference}/decide/",
            {"decision": "approve", "rationale": "Good"},
            "lena",
        ),
        "merge": (
            f"/proposals/{w.submitted.reference}/merge/",
            {"into": w.in_review.reference},
            "lena",
        ),
        "close": (
            f"/proposals/{w.experimenting.reference}/close/",
            {"next_step": "stop"},
            "lena",
        ),
        "release feedback": (f"/proposals/{w.approved.reference}/feedback/", {}, "lena"),
        "plan experiment": (
            f"/proposals/{w.approved.reference}/experiments/new/",
            {
                "title": "Another pilot",
                "we_believe": "a",
                "will_result_in": "b",
                "we_will_know_when": "c",
                "lead": people["lena"].pk,
                "starts_on-day": "5",
                "starts_on-month": "1",
                "starts_on-year": "2026",
                "ends_on-day": "5",
                "ends_on-month": "2",
                "ends_on-year": "2026",
                "metrics-0-name": "Hours",
                "metrics-0-unit": "hours",
                "metrics-0-baseline": "10",
                "metrics-0-target": "5",
                "metrics-0-direction": "decrease",
            },
            "lena",
        ),
        "start experiment": (f"/experiments/{w.planned.pk}/start/", {}, "lena"),
        "stop experiment": (f"/experiments/{w.running.pk}/stop/", {"reason": "Budget cut"}, "lena"),
        "record outcome": (
            f"/experiments/{w.running.pk}/outcome/",
            {
                **{f"actual_{m.pk}": "70" for m in w.running.metrics.all()},
                "result": "partly_met",
                "lessons": "Some forms were fine",
                "recommendation": "iterate",
            },
            "lena",
        ),
        "adopt": (f"/lessons/{w.outcome.pk}/adopt/", {}, "amir"),
        "department settings": (
            "/department/settings/",
            {"triage_target_days": "7", "min_assessments": "1", "moderation_threshold": "1.5"},
            "lena",
        ),
        "set role": (
            f"/department/settings/people/{people['amir'].pk}/role/",
            {"role": "reviewer"},
            "lena",
        ),
    }


ACTIONS = [
    "accept",
    "request_info",
    "reject_at_triage",
    "bulk accept",
    "declare no conflict",
    "decide",
    "merge",
    "close",
    "release feedback",
    "plan experiment",
    "start experiment",
    "stop experiment",
    "record outcome",
    "adopt",
    "department settings",
    "set role",
]
# Besides the one named in the table, these may also act (as the rules say).
ALSO_ALLOWED = {
    "accept": {"ravi", "lena"},
    "request_info": {"ravi", "lena"},
    "reject_at_triage": {"ravi", "lena"},
    "bulk accept": {"ravi", "lena"},
    "adopt": {"rita", "ravi", "lena", "hugo"},
}


@pytest.mark.django_db
@pytest.mark.parametrize("person", PEOPLE)
@pytest.mark.parametrize("action", ACTIONS)
def test_action_is_allowed_only_for_its_roles(request, world, action, person):
    people = {name: request.getfixturevalue(name) for name in PEOPLE}
    url, data, allowed = _actions(world, people)[action]
    if action == "decide":
        # Decisions are on proposals in review with enough assessments.
        assess(world.in_review, people["ravi"], 4)
        url = f"/proposals/{world.in_review.reference}/decide/"
    if action == "close":
        # Closing needs every experiment's outcome.
        services.outcome_record(
            experiment=world.running,
            actor=people["lena"],
            actuals={m.pk: "60" for m in world.running.metrics.all()},
            result="met",
            lessons="Worked",
            recommendation="scale",
        )
    before = list(Proposal.objects.order_by("pk").values_list("status", flat=True))
    response = _client_for(request, person).post(url, data)
    if person == allowed or person in ALSO_ALLOWED.get(action, set()):
        assert response.status_code == 302, (action, person, response.content[:2000])
    else:
        assert response.status_code == 403, (action, person)
        assert list(Proposal.objects.order_by("pk").values_list("status", flat=True)) == before


@pytest.mark.django_db
def test_bulk_accept_with_one_already_triaged_is_409_and_accepts_none(request, world, alice):
    other = submitted(alice, title="Second in the queue")
    rita = request.getfixturevalue("rita")
    ravi = request.getfixturevalue("ravi")

    services.proposal_transition(
        proposal=world.submitted, actor=rita, action="reject_at_triage", data={"rationale": "No"}
    )
    response = _client_for(request, "lena").post(
        "/review/",
        {"references": [world.submitted.reference, other.reference], "assessors": [ravi.pk]},
    )
    assert response.status_code == 409
    assert "Someone else has already acted on this" in response.content.decode()
    other.refresh_from_db()
    assert other.status == Status.SUBMITTED
