"""One proposal filter: for the same filter values, Find proposals, the API list,
a proposals report's rows and its CSV export hold the same references, and a bad
value gets the same plain-English message at every door. Real database (run it
with DATABASE_URL on PostgreSQL too: search is then full text)."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import TokenScope, User
from proposals import dashboards, reports, services
from proposals.enums import Status, Visibility
from proposals.filters import MESSAGES, QueueFilter
from proposals.models import Proposal, Theme
from proposals.services import api_token_create
from tests.factories import ProposalFactory
from tests.proposals.review_world import approved, planned, with_outcome


@pytest.fixture(autouse=True)
def _no_settling_lag(settings) -> None:
    settings.API_SETTLING_LAG_SECONDS = 0


@pytest.fixture
def world(alice, amir, bob) -> dict[str, Proposal]:
    ai = Theme.objects.get(slug="ai")
    data = Theme.objects.get(slug="data-and-analytics")
    made = {
        "alice-draft": ProposalFactory.create(
            submitter=alice, status=Status.DRAFT, title="Draft about kiosks"
        ),
        "alice-dept": ProposalFactory.create(
            submitter=alice, visibility=Visibility.DEPARTMENT, title="Scanning kiosk"
        ),
        "amir-ai": ProposalFactory.create(submitter=amir, title="Reading handwriting"),
        "amir-approved": ProposalFactory.create(
            submitter=amir, status=Status.APPROVED, title="Chatbot kiosk"
        ),
        "bob-gov": ProposalFactory.create(submitter=bob, title="Passport kiosk online"),
        "bob-approved": ProposalFactory.create(
            submitter=bob, status=Status.APPROVED, title="Visa queue model"
        ),
        "bob-dept": ProposalFactory.create(
            submitter=bob, visibility=Visibility.DEPARTMENT, title="Home Office kiosk only"
        ),
    }
    made["amir-ai"].themes.set([ai, data])
    made["amir-approved"].themes.set([ai])
    made["bob-gov"].themes.set([data])
    made["bob-approved"].themes.set([ai])
    return made


def _page(user: User, filters: dict[str, str]) -> Any:
    client = Client()
    client.force_login(user)
    params = {("q" if name == "search" else name): value for name, value in filters.items()}
    return client.get("/proposals/", params)


def _api(user: User, filters: dict[str, str]) -> Any:
    _, key = api_token_create(user=user, name="filters", scope=TokenScope.READ)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client.get("/api/v1/proposals/", {**filters, "page_size": "500"})


def _report(user: User, filters: dict[str, str], fmt: str) -> str:
    # What a report request stores is what the report is built from.
    stored = reports.clean_filters(filters)
    out = io.BytesIO()
    reports.generate(user=user, kind="proposals", fmt=fmt, filters=stored, out=out)
    return out.getvalue().decode()


def found_by_every_door(user: User, filters: dict[str, str]) -> dict[str, set[str]]:
    page = _page(user, filters)
    assert page.status_code == 200
    api = _api(user, filters)
    assert api.status_code == 200, api.json()
    [table] = json.loads(_report(user, filters, "json"))["tables"]
    exported = list(csv.DictReader(io.StringIO(_report(user, filters, "csv"))))
    return {
        "page": {p.reference for p in page.context["proposals"]},
        "api": {row["reference"] for row in api.json()["results"]},
        "report": {row["Reference"] for row in table["rows"]},
        "export": {row["Reference"] for row in exported},
    }


CASES: list[tuple[str, dict[str, str], set[str]]] = [
    (
        "alice",
        {},
        {"alice-draft", "alice-dept", "amir-ai", "amir-approved", "bob-gov", "bob-approved"},
    ),
    ("alice", {"status": "approved"}, {"amir-approved", "bob-approved"}),
    ("alice", {"status": "draft"}, {"alice-draft"}),
    ("alice", {"department": "home-office"}, {"bob-gov", "bob-approved"}),
    ("alice", {"theme": "ai"}, {"amir-ai", "amir-approved", "bob-approved"}),
    ("alice", {"department": "dfe", "theme": "ai"}, {"amir-ai", "amir-approved"}),
    ("alice", {"search": "kiosk"}, {"alice-draft", "alice-dept", "amir-approved", "bob-gov"}),
    ("alice", {"search": "kiosk", "status": "submitted"}, {"alice-dept", "bob-gov"}),
    ("bob", {"search": "kiosk"}, {"amir-approved", "bob-gov", "bob-dept"}),
    ("bob", {"department": "dfe"}, {"amir-ai", "amir-approved"}),
    ("ana", {"status": "approved", "theme": "ai"}, {"amir-approved", "bob-approved"}),
    ("ana", {"theme": "data-and-analytics"}, {"amir-ai", "bob-gov"}),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("who", "filters", "expected"), CASES)
def test_page_api_report_and_export_find_the_same_proposals(request, world, who, filters, expected):
    user = request.getfixturevalue(who)

    found = found_by_every_door(user, filters)

    want = {world[key].reference for key in expected}
    assert found == {"page": want, "api": want, "report": want, "export": want}


BAD: list[tuple[dict[str, str], str, str]] = [
    ({"status": "pending"}, "status", MESSAGES["status"]),
    ({"department": "nowhere"}, "department", MESSAGES["department"]),
    ({"department": "not a slug!"}, "department", MESSAGES["department"]),
    ({"theme": "no-such-theme"}, "theme", MESSAGES["theme"]),
    ({"search": "x" * 201}, "search", MESSAGES["search"]),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("filters", "field", "message"), BAD)
def test_a_bad_filter_value_has_the_same_message_at_every_door(
    alice, lena, world, filters, field, message
):
    page = _page(alice, filters)
    api = _api(alice, filters)
    with pytest.raises(ValidationError) as from_report:
        services.report_request(user=lena, kind="proposals", format="csv", filters=filters)
    client = Client()
    client.force_login(lena)
    request_page = client.post("/reports/", {"kind": "proposals", "format": "csv", **filters})
    _, key = api_token_create(user=lena, name="reports", scope=TokenScope.WRITE)
    api_client = APIClient()
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    api_request = api_client.post(
        "/api/v1/reports/",
        {"kind": "proposals", "format": "csv", "filters": filters},
        format="json",
    )

    assert page.status_code == 400
    assert 'class="govuk-error-summary"' in page.content.decode()
    assert message in page.content.decode()
    assert api.status_code == 400
    assert api.json()["errors"] == {field: [message]}
    assert from_report.value.message_dict == {field: [message]}
    assert request_page.status_code == 400
    assert 'class="govuk-error-summary"' in request_page.content.decode()
    assert message in request_page.content.decode()
    assert api_request.status_code == 400
    assert api_request.json()["errors"] == {f"filters.{field}": [message]}


@pytest.mark.django_db
@pytest.mark.parametrize(
    "params",
    [{"theme": "ai"}, {"q": "kiosk"}, {"theme": "data-and-analytics", "q": "handwriting"}, {}],
)
def test_the_review_queue_filters_as_find_proposals_does(rita, world, params):
    queue = QueueFilter(params, queryset=Proposal.objects.none(), department=rita.department)
    in_queue = {p.reference for p in dashboards.triage_queue(rita, queue)}
    page = _page(rita, {**params, "department": "dfe", "status": "submitted"})

    assert in_queue == {p.reference for p in page.context["proposals"]}


# --- outcomes: the lessons library and the API's outcomes ------------------------------------


@pytest.mark.django_db
def test_lessons_and_the_api_filter_outcomes_alike(alice, rita, lena, bob):
    met = with_outcome(planned(approved(alice, rita, lena), lena, title="Met"), lena, result="met")
    with_outcome(planned(approved(alice, rita, lena), lena, title="Missed"), lena)
    client = Client()
    client.force_login(bob)
    _, key = api_token_create(user=bob, name="filters", scope=TokenScope.READ)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")

    page = client.get("/lessons/", {"result": "met"})
    listed = api.get("/api/v1/outcomes/", {"result": "met"})
    bad_page = client.get("/lessons/", {"result": "bogus"})
    bad_api = api.get("/api/v1/outcomes/", {"result": "bogus"})

    assert [o.pk for o in page.context["page_obj"].object_list] == [met.pk]
    assert [row["id"] for row in listed.json()["results"]] == [met.pk]
    assert bad_page.status_code == 400
    assert MESSAGES["result"] in bad_page.content.decode()
    assert bad_api.status_code == 400
    assert bad_api.json()["errors"] == {"result": [MESSAGES["result"]]}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"status": ""}, 400),  # present on the API means a value (the schema says so)
        ({"department": ""}, 400),
        ({"updated_after": ""}, 400),
        ({"updated_after": "2026-11-28T09:30:00"}, 400),  # no time zone (SPEC §6)
        # An offset Python reads and PostgreSQL would refuse: read in UTC.
        ({"updated_after": "4502-07-09T22:14:27.382-16:45"}, 200),
        ({"updated_after": "9999-12-31T23:59:59-15:00"}, 400),
        ({"search": ""}, 200),
    ],
)
def test_the_api_refuses_blank_and_impossible_values(alice, world, params, status):
    response = _api(alice, params)

    assert response.status_code == status, response.json()
