"""Bad input on every endpoint: a clear 4xx in the one JSON error shape, and
nothing written. The write endpoints come from the URL list, as in the access
matrix, so a new endpoint is covered without adding it here."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from proposals.api import views
from proposals.models import (
    AuditEvent,
    Comment,
    Notification,
    Proposal,
    Report,
    Support,
    WebhookEndpoint,
)
from tests.api.test_access_matrix import CASES, api_endpoints
from tests.api.world import World, build_world

WRITES = sorted((n, m) for n, m in api_endpoints() if m in {"POST", "PATCH", "PUT", "DELETE"})
# Endpoints whose input is a JSON object with fields (the others take no body).
WITH_FIELDS = {
    (n, m)
    for n, m in WRITES
    if n
    in {
        "proposal-list",
        "proposal-detail",
        "proposal-triage",
        "proposal-assess",
        "proposal-decide",
        "proposal-merge",
        "proposal-close",
        "proposal-comments",
        "report-list",
        "webhook-list",
    }
    and m != "DELETE"
}
WRONG_TYPES = {
    "title": ["not", "text"],
    "summary": {"a": 1},
    "estimated_benefit_gbp": "lots",
    "themes": "automation",
    "visibility": "everyone",
    "action": 5,
    "assessors": "rita",
    "conflict": "perhaps",
    "scores": [{"criterion": "one", "score": 9}],
    "recommendation": 1,
    "decision": {"approve": True},
    "rationale": ["x"],
    "into": ["DFE-2026-9002"],
    "next_step": 7,
    "body": {"text": "hi"},
    "kind": [],
    "format": None,
    "filters": "all",
    "url": 5,
    "events": "proposal.submitted",
}


@pytest.fixture
def world(alice, amir, rita, lena, bob, hugo, ana) -> World:
    users = {
        "alice": alice,
        "amir": amir,
        "rita": rita,
        "lena": lena,
        "bob": bob,
        "hugo": hugo,
        "ana": ana,
    }
    return build_world(users)


def _state() -> tuple[Any, ...]:
    return (
        list(Proposal.objects.order_by("pk").values_list("pk", "version", "status", "title")),
        AuditEvent.objects.count(),
        Comment.objects.count(),
        Support.objects.count(),
        Report.objects.count(),
        WebhookEndpoint.objects.count(),
        Notification.objects.count(),
    )


def _path(world: World, name: str, method: str) -> str:
    case = CASES[(name, method)]
    return case.path(world, "dfe_government" if case.per_target else None)


def _assert_error(response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert {"detail", "code"} <= set(body) <= {"detail", "errors", "code"}
    assert isinstance(body["detail"], str) and body["detail"]
    assert "Traceback" not in response.content.decode()
    return body


BAD_BODIES = {
    "malformed": (b'{"title": "unfinished', "application/json", 400),
    "nan": (b'{"title": NaN}', "application/json", 400),
    "array": (b"[1, 2, 3]", "application/json", 400),
    "deep": (b"[" * 100_000 + b"]" * 100_000, "application/json", 400),
    "latin1": ('{"title": "caf\xe9"}'.encode("latin-1"), "application/json", 400),
    "form": (b"title=Idea", "application/x-www-form-urlencoded", 415),
    "xml": (b"<title>Idea</title>", "application/xml", 415),
}


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "method"), WRITES)
@pytest.mark.parametrize("kind", sorted(BAD_BODIES))
def test_bad_body_on_every_write_is_4xx_json_and_writes_nothing(
    client_for, world, settings, name, method, kind
) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 300_000  # room for the deep-nesting body
    content, content_type, status = BAD_BODIES[kind]
    client = client_for(world.users["lena"])
    before = _state()

    response = client.generic(method, _path(world, name, method), content, content_type)

    _assert_error(response, status)
    assert _state() == before


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "method"), WRITES)
def test_oversized_body_on_every_write_is_413(client_for, world, settings, name, method):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    client = client_for(world.users["lena"])
    before = _state()
    body = json.dumps({"title": "x" * 20_000}).encode()

    response = client.generic(method, _path(world, name, method), body, "application/json")

    assert _assert_error(response, 413) == {
        "detail": "The request body is larger than 10,000 bytes",
        "code": "too_large",
    }
    assert _state() == before


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "method"), sorted(WITH_FIELDS))
def test_wrong_types_on_every_write_are_400_with_field_errors(client_for, world, name, method):
    client = client_for(world.users["lena"])
    before = _state()

    response = client.generic(
        method, _path(world, name, method), json.dumps(WRONG_TYPES), "application/json"
    )

    body = _assert_error(response, 400)
    # Read-only names (none here) aside, every error names a field it was about.
    assert body["errors"]
    assert {name.split(".")[0] for name in body["errors"]} <= set(WRONG_TYPES) | {
        "non_field_errors"
    }
    assert _state() == before


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "method"), sorted(WITH_FIELDS))
def test_empty_object_on_every_write_is_400_or_harmless(client_for, world, name, method):
    client = client_for(world.users["lena"])
    before = _state()

    response = client.generic(method, _path(world, name, method), b"{}", "application/json")

    if (name, method) == ("proposal-detail", "PATCH"):
        # Nothing to change: Lena is not an author, so 403 and nothing written.
        _assert_error(response, 403)
    else:
        assert _assert_error(response, 400)["errors"]
    assert _state() == before


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/proposals/DFE-2026-XXXX/",
        "/api/v1/proposals/" + "A" * 40 + "/",
        "/api/v1/proposals/%00/",
        "/api/v1/experiments/abc/",
        "/api/v1/experiments/99999999999999999999999/",
        "/api/v1/outcomes/0/",
        "/api/v1/reports/not-a-uuid/",
        "/api/v1/reports/00000000-0000-0000-0000-000000000000/",
        "/api/v1/webhooks/999/deliveries/",
        "/api/v1/departments/nowhere/",
        "/api/v1/challenges/nothing/",
        "/api/v1/",
        "/api/v2/proposals/",
        "/api/v1/proposals",  # no trailing slash
    ],
)
def test_unknown_addresses_are_json_404(client_for, world, path) -> None:
    response = client_for(world.users["lena"]).get(path)

    _assert_error(response, 404)


@pytest.mark.django_db
def test_wrong_method_is_json_405(client_for, world) -> None:
    response = client_for(world.users["lena"]).put(
        "/api/v1/proposals/DFE-2026-9002/", {"title": "x"}, format="json"
    )

    assert _assert_error(response, 405) == {
        "detail": 'Method "PUT" not allowed.',
        "code": "method_not_allowed",
    }


@pytest.mark.django_db
def test_unacceptable_accept_header_is_json_406(client_for, world) -> None:
    response = client_for(world.users["lena"]).get(
        "/api/v1/proposals/", HTTP_ACCEPT="application/xml"
    )

    _assert_error(response, 406)


@pytest.mark.django_db
def test_errors_are_json_even_for_a_browser(world) -> None:
    client = APIClient()
    client.force_login(world.users["bob"])

    response = client.get("/api/v1/proposals/DFE-2026-9003/", HTTP_ACCEPT="text/html")

    _assert_error(response, 404)


@pytest.mark.django_db
def test_rate_limit_is_429_with_retry_after(client_for, world, settings) -> None:
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"token": "3/minute"},
    }
    cache.clear()
    client = client_for(world.users["alice"])
    other = client_for(world.users["amir"])

    codes = [client.get("/api/v1/themes/").status_code for _ in range(4)]
    limited = client.get("/api/v1/themes/")
    others = other.get("/api/v1/themes/")

    assert codes == [200, 200, 200, 429]
    assert 1 <= int(limited["Retry-After"]) <= 60
    assert limited.json()["detail"].startswith("Request was throttled")
    assert others.status_code == 200  # counted per token


@pytest.mark.django_db
def test_unexpected_error_is_json_500_without_a_traceback(client_for, world, monkeypatch):
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("secret internals")

    # Not mocking our logic: simulating a fault (a lost database, a bug) anywhere.
    monkeypatch.setattr(views.rows, "theme_rows", broken)

    response = client_for(world.users["alice"]).get("/api/v1/themes/")

    body = _assert_error(response, 500)
    assert "secret internals" not in json.dumps(body)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body",
    [
        {"title": "Idea", "themes": ["auto\x00mation"]},
        {"title": "Idea", "co_authors": ["a\x00@dfe.example"]},
        {"title": "Idea", "challenge": "\ud800"},
        {"title": "Idea", "collaborating_departments": [""]},
        {"title": "Idea", "challenge": ""},
        {"title": "Idea", "themes": [5]},
        {"title": "Idea\x00"},
    ],
)
def test_text_postgresql_cannot_store_is_400_not_500(client_for, alice, body) -> None:
    """Found by schemathesis on PostgreSQL: NUL bytes in a slug lookup were a 500."""
    response = client_for(alice).post(
        "/api/v1/proposals/",
        json.dumps(body, ensure_ascii=True).encode(),
        content_type="application/json",
    )

    _assert_error(response, 400)
    assert Proposal.objects.count() == 0
