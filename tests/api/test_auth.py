"""Token authentication, scopes, browser sessions, and create_api_token."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import ApiToken, TokenScope
from proposals.models import Proposal
from proposals.services import api_token_create, api_token_revoke, hash_token

NOT_VALID = {"detail": "The token is not valid"}
MALFORMED = (
    "Send the token as “Authorization: Token <key>” (or “Bearer <key>”), with no spaces in the key"
)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("header", "detail"),
    [
        (None, "Authentication credentials were not provided."),
        ("Token pai_not-a-real-key", "The token is not valid"),
        (
            "Token",
            MALFORMED,
        ),
        (
            "Token a b",
            MALFORMED,
        ),
        (
            "Token " + "x" * 300,
            MALFORMED,
        ),
    ],
)
def test_missing_or_bad_token_is_401_json_with_www_authenticate(header, detail) -> None:
    client = APIClient()
    if header:
        client.credentials(HTTP_AUTHORIZATION=header)

    response = client.get("/api/v1/proposals/")

    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"
    assert response["WWW-Authenticate"] == 'Token realm="api"'
    code = "not_authenticated" if header is None else "authentication_failed"
    assert response.json() == {"detail": detail, "code": code}


@pytest.mark.django_db
def test_non_ascii_token_is_401() -> None:
    response = APIClient().get(
        "/api/v1/proposals/", HTTP_AUTHORIZATION="Token caf\xe9".encode().decode("latin-1")
    )

    assert response.status_code == 401


@pytest.mark.django_db
def test_revoked_expired_and_deactivated_tokens_are_refused_at_once(alice, amir, rita) -> None:
    revoked, revoked_key = api_token_create(user=alice, name="a")
    api_token_revoke(token=revoked, actor=alice)
    expired, expired_key = api_token_create(user=amir, name="b")
    ApiToken.objects.filter(pk=expired.pk).update(expires_at=timezone.now())
    _, deactivated_key = api_token_create(user=rita, name="c")
    rita.is_active = False
    rita.save()

    answers = {
        key: APIClient().get("/api/v1/themes/", HTTP_AUTHORIZATION=f"Token {key}")
        for key in (revoked_key, expired_key, deactivated_key)
    }

    assert {r.status_code for r in answers.values()} == {401}
    assert answers[revoked_key].json() == {
        "detail": "The token has been revoked",
        "code": "authentication_failed",
    }
    assert answers[expired_key].json() == {
        "detail": "The token has expired",
        "code": "authentication_failed",
    }
    assert answers[deactivated_key].json() == {
        "detail": "The token's owner has been deactivated",
        "code": "authentication_failed",
    }


@pytest.mark.django_db
def test_last_used_at_is_written_at_most_once_a_minute(client_for, alice) -> None:
    client = client_for(alice)
    token = ApiToken.objects.get(user=alice)
    assert token.last_used_at is None

    client.get("/api/v1/themes/")
    first = ApiToken.objects.get(pk=token.pk).last_used_at
    client.get("/api/v1/themes/")
    second = ApiToken.objects.get(pk=token.pk).last_used_at
    assert first is not None
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=first - dt.timedelta(minutes=2))
    client.get("/api/v1/themes/")
    third = ApiToken.objects.get(pk=token.pk).last_used_at

    assert second == first
    assert third is not None
    assert third > first


@pytest.mark.django_db
def test_read_only_token_gets_403_on_every_write_and_writes_nothing(client_for, alice) -> None:
    client = client_for(alice, write=False)

    created = client.post("/api/v1/proposals/", {"title": "Idea"}, format="json")
    reported = client.post(
        "/api/v1/reports/", {"kind": "proposals", "format": "csv"}, format="json"
    )
    listed = client.get("/api/v1/proposals/")

    assert created.status_code == 403
    assert created.json() == {
        "detail": "This token is read-only: create a token with write scope to make changes",
        "code": "permission_denied",
    }
    assert reported.status_code == 403
    assert listed.status_code == 200
    assert Proposal.objects.count() == 0


@pytest.mark.django_db
def test_session_auth_needs_csrf_for_writes(alice) -> None:
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(alice)

    read = client.get("/api/v1/proposals/")
    write = client.post("/api/v1/proposals/", {"title": "Idea"}, format="json")

    assert read.status_code == 200
    assert write.status_code == 403
    assert write.json()["detail"].startswith("CSRF Failed")
    assert Proposal.objects.count() == 0


@pytest.mark.django_db
def test_session_of_deactivated_user_stops_working(alice) -> None:
    client = APIClient()
    client.force_login(alice)
    alice.is_active = False
    alice.save()

    response = client.get("/api/v1/proposals/")

    assert response.status_code == 401
    assert response.json()["detail"]


# --- create_api_token -------------------------------------------------------------------------


@pytest.mark.django_db
def test_create_api_token_prints_a_working_read_token_on_the_last_line(alice) -> None:
    out = io.StringIO()

    call_command("create_api_token", "Alice@DfE.example", stdout=out)

    key = out.getvalue().strip().splitlines()[-1]
    token = ApiToken.objects.get(key_hash=hash_token(key))
    assert token.user == alice
    assert token.scope == TokenScope.READ
    assert abs((token.expires_at - timezone.now()) - dt.timedelta(days=90)) < dt.timedelta(
        minutes=1
    )
    response = APIClient().get("/api/v1/themes/", HTTP_AUTHORIZATION=f"Token {key}")
    assert response.status_code == 200


@pytest.mark.django_db
def test_create_api_token_with_write_and_days(alice) -> None:
    out = io.StringIO()

    call_command("create_api_token", alice.email, "--write", "--days", "7", stdout=out)

    token = ApiToken.objects.get(key_hash=hash_token(out.getvalue().strip().splitlines()[-1]))
    assert token.scope == TokenScope.WRITE
    assert abs((token.expires_at - timezone.now()) - dt.timedelta(days=7)) < dt.timedelta(minutes=1)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nobody@dfe.example"], "No user with the email address nobody@dfe.example"),
        (["alice@dfe.example", "--days", "0"], "A token lasts between 1 and 366 days"),
    ],
)
def test_create_api_token_refuses_bad_input(alice, args, message) -> None:
    with pytest.raises(CommandError, match=message):
        call_command("create_api_token", *args, stdout=io.StringIO())
    assert ApiToken.objects.count() == 0
