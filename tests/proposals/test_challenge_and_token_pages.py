"""Challenges (calls for ideas) and API tokens."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import ApiToken
from proposals import services
from proposals.models import Challenge
from tests.factories import UserFactory
from tests.pages import page_title, title_of
from tests.proposals.pages import html, submitted

pytestmark = pytest.mark.django_db


def _challenge(lena, slug: str, *, days_left: int = 30, closed: bool = False) -> Challenge:
    today = timezone.localdate()
    return Challenge.objects.create(
        slug=slug,
        title=slug.replace("-", " ").capitalize(),
        question="How could teachers spend less time marking?",
        department=lena.department,
        opens_on=today - dt.timedelta(days=40),
        closes_on=today + dt.timedelta(days=days_left),
        closed_at=timezone.now() if closed else None,
        created_by=lena,
    )


def test_challenges_page_separates_open_and_closed(client, alice, lena):
    _challenge(lena, "marking-time")
    _challenge(lena, "old-one", days_left=-2)
    _challenge(lena, "stopped-one", closed=True)
    client.force_login(alice)

    response = client.get("/challenges/")

    body = html(response)
    open_part, closed_part = body.split('<h2 class="govuk-heading-m">Closed</h2>')
    assert title_of(response) == page_title("Challenges")
    assert 'href="/proposals/new/?challenge=marking-time">Propose an answer' in open_part
    assert "Old one" in closed_part and "Stopped one" in closed_part
    assert "?challenge=old-one" not in body
    assert "Open a challenge" not in body


def test_challenge_page_lists_visible_answers(client, alice, bob, lena):
    challenge = _challenge(lena, "marking-time")
    answer = submitted(alice, challenge=challenge)
    hidden = submitted(alice, challenge=challenge, visibility="department")
    client.force_login(bob)

    body = html(client.get("/challenges/marking-time/"))

    assert answer.reference in body
    assert hidden.reference not in body
    assert "How could teachers spend less time marking?" in body


def _date(name: str, day: str, month: str, year: str) -> dict[str, str]:
    return {f"{name}-day": day, f"{name}-month": month, f"{name}-year": year}


def test_lead_opens_a_challenge(client, lena):
    client.force_login(lena)

    form = client.get("/challenges/new/")
    response = client.post(
        "/challenges/new/",
        {
            "title": "Fewer printed letters",
            "question": "How could we send fewer letters?",
            "opens_on-day": "1",
            "opens_on-month": "1",
            "opens_on-year": "2026",
            "closes_on-day": "31",
            "closes_on-month": "12",
            "closes_on-year": "2030",
        },
    )

    challenge = Challenge.objects.get()
    assert form.status_code == 200
    assert response["Location"] == "/challenges/fewer-printed-letters/"
    assert (challenge.department, challenge.closes_on) == (lena.department, dt.date(2030, 12, 31))


def test_open_a_challenge_with_bad_dates_says_what_is_wrong(client, lena):
    client.force_login(lena)

    response = client.post(
        "/challenges/new/",
        {
            "title": "X",
            "question": "Y",
            **_date("opens_on", "31", "12", "2030"),
            **_date("closes_on", "31", "2", "2031"),
        },
    )
    backwards = client.post(
        "/challenges/new/",
        {
            "title": "X",
            "question": "Y",
            **_date("opens_on", "31", "12", "2030"),
            **_date("closes_on", "1", "1", "2030"),
        },
    )

    assert response.status_code == 400
    assert '<a href="#id_closes_on-day">Date it closes must be a real date</a>' in html(response)
    assert "The date it closes must be the same as or after it opens" in html(backwards)
    assert Challenge.objects.count() == 0


def test_submitters_cannot_open_or_close_challenges(client, alice, lena):
    _challenge(lena, "marking-time")
    client.force_login(alice)

    assert client.get("/challenges/new/").status_code == 403
    assert client.post("/challenges/marking-time/close/").status_code == 403


def test_lead_closes_a_challenge_after_confirming(client, lena):
    challenge = _challenge(lena, "marking-time")
    client.force_login(lena)

    confirm = client.get("/challenges/marking-time/close/")
    response = client.post("/challenges/marking-time/close/")

    challenge.refresh_from_db()
    assert "Are you sure you want to close this challenge?" in html(confirm)
    assert response.status_code == 302
    assert challenge.closed_at is not None
    assert "?challenge=marking-time" not in html(client.get("/challenges/"))


def test_another_departments_lead_cannot_close_it(client, lena, home_office):
    _challenge(lena, "marking-time")
    ho_lead = UserFactory.create(
        email="lead@homeoffice.example", department=home_office, role="lead"
    )
    client.force_login(ho_lead)

    assert client.post("/challenges/marking-time/close/").status_code == 403


def test_unknown_challenge_is_not_found(client, alice):
    client.force_login(alice)

    assert client.get("/challenges/nothing/").status_code == 404


def test_challenges_page_runs_a_fixed_number_of_queries(client, alice, lena):
    _challenge(lena, "one")
    client.force_login(alice)
    with CaptureQueriesContext(connection) as small:
        client.get("/challenges/")
    for n in range(20):
        challenge = _challenge(lena, f"more-{n}", days_left=n - 10)
        if challenge.is_open:
            submitted(alice, challenge=challenge)

    with CaptureQueriesContext(connection) as large:
        client.get("/challenges/")

    assert (len(small), len(large)) == (8, 8)


# --- API tokens -----------------------------------------------------------------------------


def test_create_a_token_shows_the_key_once(client, alice):
    client.force_login(alice)

    response = client.post(
        "/account/tokens/new/", {"name": "Dashboard", "scope": "read", "days": "30"}
    )
    shown = client.get("/account/tokens/created/")
    again = client.get("/account/tokens/created/")

    token = ApiToken.objects.get()
    body = html(shown)
    key = body.split('<code id="token-key">', 1)[1].split("</code>", 1)[0]
    assert response["Location"] == "/account/tokens/created/"
    assert "Copy this token now. You will not be able to see it again." in body
    assert key.startswith(token.prefix)
    assert services.hash_token(key) == token.key_hash
    assert "no-store" in shown["Cache-Control"]
    assert again.status_code == 302
    assert again["Location"] == "/account/tokens/"
    assert token.expires_at.date() == (timezone.now() + dt.timedelta(days=30)).date()


def test_token_list_shows_name_prefix_scope_and_last_use(client, alice):
    token, _key = services.api_token_create(user=alice, name="Sync", scope="write", days=10)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
    client.force_login(alice)

    body = html(client.get("/account/tokens/"))

    assert "Sync" in body
    assert f"<code>{token.prefix}</code>" in body
    assert "Read and write" in body
    assert "Never" not in body


def test_create_a_token_with_bad_input_says_what_is_wrong(client, alice):
    client.force_login(alice)

    response = client.post("/account/tokens/new/", {"name": "", "scope": "admin", "days": "999"})

    body = html(response)
    assert response.status_code == 400
    assert '<a href="#id_name">Enter a name for the token</a>' in body
    assert '<a href="#id_scope_0">Select what the token can do</a>' in body
    assert '<a href="#id_days">A token lasts between 1 and 366 days</a>' in body
    assert ApiToken.objects.count() == 0


def test_revoke_a_token_after_confirming(client, alice):
    token, _key = services.api_token_create(user=alice, name="Old")
    client.force_login(alice)

    confirm = client.get(f"/account/tokens/{token.pk}/revoke/")
    client.post(f"/account/tokens/{token.pk}/revoke/")

    token.refresh_from_db()
    assert "Are you sure you want to revoke this token?" in html(confirm)
    assert token.revoked_at is not None


def test_someone_elses_token_is_not_found(client, alice, bob):
    token, _key = services.api_token_create(user=alice, name="Mine")
    client.force_login(bob)

    assert client.post(f"/account/tokens/{token.pk}/revoke/").status_code == 404
    assert "Mine" not in html(client.get("/account/tokens/"))


def test_token_list_runs_a_fixed_number_of_queries(client, alice):
    services.api_token_create(user=alice, name="One")
    client.force_login(alice)
    with CaptureQueriesContext(connection) as small:
        client.get("/account/tokens/")
    for n in range(30):
        services.api_token_create(user=alice, name=f"Token {n}")

    with CaptureQueriesContext(connection) as large:
        client.get("/account/tokens/")

    assert (len(small), len(large)) == (6, 6)
