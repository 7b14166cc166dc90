"""The contract fixes of issue 12 (SPEC §6): date-times need a time zone,
If-Match as RFC 9110 says, `Bearer` as a synonym of `Token`, the criteria that
`assess/` needs, and a schema that says what the API really does."""

from __future__ import annotations

import pytest
import yaml
from django.core.cache import cache
from rest_framework.test import APIClient

from accounts.models import TokenScope
from proposals.enums import Status
from proposals.models import Criterion
from proposals.services import api_token_create
from tests.factories import ProposalFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("endpoint", ["proposals", "experiments", "outcomes"])
def test_updated_after_without_a_time_zone_is_a_400_naming_it(client_for, alice, endpoint) -> None:
    response = client_for(alice).get(f"/api/v1/{endpoint}/?updated_after=2026-11-28T09:30:00")

    assert response.status_code == 400
    assert "time zone" in response.json()["errors"]["updated_after"][0]
    ok = client_for(alice).get(f"/api/v1/{endpoint}/?updated_after=2026-11-28T09:30:00Z")
    assert ok.status_code == 200


@pytest.fixture
def draft(alice):
    return ProposalFactory.create(submitter=alice, status=Status.DRAFT, reference="DFE-2026-9001")


@pytest.mark.parametrize(
    ("if_match", "status"),
    [
        ('"1"', 200),
        ('"7", "1"', 200),  # a list: any one matching is enough
        ('"7","1"', 200),
        ("*", 200),
        ('W/"1"', 412),  # If-Match compares strongly: a weak tag never matches
        ('"7", W/"1"', 412),
        ('"7"', 412),
        ("garbage", 412),
        ('"1" "7"', 412),  # not a list
    ],
)
def test_if_match_follows_rfc_9110(client_for, alice, draft, if_match, status) -> None:
    response = client_for(alice).patch(
        "/api/v1/proposals/DFE-2026-9001/",
        {"title": "Sharper title"},
        format="json",
        HTTP_IF_MATCH=if_match,
    )

    assert response.status_code == status, response.content
    draft.refresh_from_db()
    assert (draft.title == "Sharper title") == (status == 200)


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "Token", "TOKEN"])
def test_a_token_is_accepted_as_bearer_or_token(alice, scheme) -> None:
    _, key = api_token_create(user=alice, name="test", scope=TokenScope.READ)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"{scheme} {key}")

    assert client.get("/api/v1/proposals/").status_code == 200


def test_a_bad_bearer_token_is_refused_saying_so(alice) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer not-a-key")
    response = client.get("/api/v1/proposals/")

    assert response.status_code == 401
    assert response.json()["detail"] == "The token is not valid"


def test_criteria_of_a_department_for_assess(client_for, alice, dfe, home_office) -> None:
    Criterion.objects.filter(department=dfe).delete()
    first = Criterion.objects.create(department=dfe, name="Impact", weight=2, position=1)
    Criterion.objects.create(department=dfe, name="Cost", weight=1, position=2)
    Criterion.objects.create(department=dfe, name="Old", weight=1, position=3, active=False)

    response = client_for(alice).get("/api/v1/departments/dfe/criteria/")

    assert response.status_code == 200
    assert response.json()[0] == {
        "id": first.pk,
        "name": "Impact",
        "description": "",
        "weight": "2.00",
        "position": 1,
    }
    assert [c["name"] for c in response.json()] == ["Impact", "Cost"]
    assert client_for(alice).get("/api/v1/departments/nowhere/criteria/").status_code == 404


def test_the_schema_declares_the_auth_the_api_accepts_and_file_downloads(client_for, alice):
    schema = yaml.safe_load(client_for(alice).get("/api/schema/").content)

    schemes = schema["components"]["securitySchemes"]
    assert schemes["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": schemes["bearerAuth"]["description"],
    }
    assert schemes["tokenAuth"]["type"] == "apiKey"
    download = schema["paths"]["/api/v1/reports/{id}/download/"]["get"]["responses"]["200"]
    assert set(download["content"]) == {
        "text/csv",
        "application/vnd.oasis.opendocument.spreadsheet",
        "application/json",
    }
    for media in download["content"].values():
        assert media["schema"] == {"type": "string", "format": "binary"}
    assert "Content-Disposition" in download["headers"]


def test_every_operation_has_an_example(client_for, alice) -> None:
    schema = yaml.safe_load(client_for(alice).get("/api/schema/").content)
    missing = []
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            success = [
                body
                for code, body in operation["responses"].items()
                if code.startswith("2") and "content" in body
            ]
            for body in success:
                for media_type, media in body["content"].items():
                    binary = media["schema"].get("format") == "binary"  # a file, not JSON
                    if media_type == "application/json" and not binary and "examples" not in media:
                        missing.append(f"{method.upper()} {path}")
    assert missing == []
    feed = schema["paths"]["/api/v1/changes/"]["get"]["responses"]["200"]["content"]
    example = feed["application/json"]["examples"]["AFewChanges"]["value"]
    assert [e["type"] for e in example["results"]] == ["proposal.upserted", "proposal.removed"]


def test_every_counted_answer_carries_the_rate_limit_headers(client_for, alice, settings) -> None:
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"token": "3/minute"},
    }
    cache.clear()
    client = client_for(alice)

    paths = ("/api/v1/themes/", "/api/v1/changes/", "/api/v1/proposals/NOPE-1/", "/api/v1/themes/")
    answers = [client.get(path) for path in paths]

    assert [a.status_code for a in answers] == [200, 200, 404, 429]
    assert {a["RateLimit-Limit"] for a in answers} == {"3"}
    assert [a["RateLimit-Remaining"] for a in answers] == ["2", "1", "0", "0"]
    assert all(1 <= int(a["RateLimit-Reset"]) <= 60 for a in answers)
    assert int(answers[3]["Retry-After"]) >= 1
