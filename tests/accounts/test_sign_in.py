"""Sign in, lockout, sign out, idle timeout, deactivation and password reset."""

from __future__ import annotations

import re
import time
from importlib import import_module

import pytest
from django.core import mail
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from accounts.middleware import SESSION_KEY, SIGNED_IN_KEY, SessionTimeoutMiddleware
from tests.pages import page_title, title_of

PASSWORD = "correct horse battery staple"


def sign_in(client, email: str, password: str):
    return client.post("/accounts/login/", {"username": email, "password": password})


@pytest.mark.django_db
def test_sign_in_page_has_the_fields_and_button_of_the_spec(client):
    response = client.get("/accounts/login/")
    html = response.content.decode()

    assert response.status_code == 200
    assert title_of(response) == page_title("Sign in")
    assert '<label class="govuk-label" for="id_username">Email address</label>' in html
    assert '<label class="govuk-label" for="id_password">Password</label>' in html
    assert 'name="username"' in html
    assert re.search(r"<button[^>]*>\s*Sign in\s*</button>", html)
    assert "Sign in with your department account" not in html  # OIDC is not configured


@pytest.mark.django_db
def test_sign_in_with_correct_password_goes_home(client, alice):
    response = sign_in(client, "alice@dfe.example", PASSWORD)

    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.get("/").context["user"] == alice


@pytest.mark.django_db
def test_sign_in_ignores_the_case_of_the_email_address(client, alice):
    response = sign_in(client, "  Alice@DfE.Example ", PASSWORD)

    assert response.status_code == 302


@pytest.mark.django_db
def test_sign_in_follows_a_safe_next_url(client, alice):
    response = client.post(
        "/accounts/login/",
        {"username": "alice@dfe.example", "password": PASSWORD, "next": "/account/"},
    )

    assert response["Location"] == "/account/"


@pytest.mark.django_db
def test_sign_in_wrong_password_shows_the_error_summary(client, alice):
    response = sign_in(client, "alice@dfe.example", "wrong password")
    html = response.content.decode()

    assert response.status_code == 200
    assert title_of(response) == page_title("Sign in", error=True)
    assert 'class="govuk-error-summary"' in html
    assert '<a href="#id_username">Enter a correct email address and password</a>' in html
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_sign_in_empty_form_links_each_error_to_its_field(client):
    response = client.post("/accounts/login/", {"username": "", "password": ""})
    html = response.content.decode()

    assert '<a href="#id_username">Enter your email address</a>' in html
    assert '<a href="#id_password">Enter your password</a>' in html
    assert 'class="govuk-input govuk-input--error"' in html
    assert (
        '<p id="id_username-error" class="govuk-error-message">'
        '<span class="govuk-visually-hidden">Error:</span> Enter your email address</p>'
    ) in html
    assert 'aria-describedby="id_username-error"' in html


@pytest.mark.django_db
def test_deactivated_user_cannot_sign_in(client, alice):
    alice.is_active = False
    alice.save(update_fields=["is_active"])

    response = sign_in(client, "alice@dfe.example", PASSWORD)

    assert response.status_code == 200
    assert "Enter a correct email address and password" in response.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_deactivated_users_session_stops_working_at_once(client, alice):
    client.force_login(alice)
    assert client.get("/account/").status_code == 200

    alice.is_active = False
    alice.save(update_fields=["is_active"])
    response = client.get("/account/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/account/"


@pytest.mark.django_db
def test_sixth_sign_in_after_five_failures_is_locked_out_with_429(client, alice):
    statuses = [
        sign_in(client, "alice@dfe.example", "wrong password").status_code for _ in range(5)
    ]

    response = sign_in(client, "alice@dfe.example", PASSWORD)

    # The fifth failure reaches the limit and already answers with the lockout page.
    assert statuses == [200, 200, 200, 200, 429]

    assert response.status_code == 429
    assert "registration/locked_out.html" in [t.name for t in response.templates]
    assert title_of(response) == page_title("You cannot sign in at the moment")
    assert "stopped you signing in for 30 minutes" in response.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_lockout_is_per_account(client, alice, amir):
    for _ in range(6):
        sign_in(client, "alice@dfe.example", "wrong password")

    response = sign_in(client, "amir@dfe.example", PASSWORD)

    assert response.status_code == 302


@pytest.mark.django_db
def test_sign_out_is_a_post_and_ends_the_session(client, alice):
    client.force_login(alice)

    assert client.get("/accounts/logout/").status_code == 405
    response = client.post("/accounts/logout/")

    assert response.status_code == 302
    assert response["Location"] == "/"
    follow = client.get("/")
    assert follow.templates[0].name == "start.html"
    assert "You have signed out" in follow.content.decode()


@pytest.mark.django_db
def test_account_page_needs_sign_in(client):
    response = client.get("/account/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/account/"


@pytest.mark.django_db
def test_account_page_shows_who_you_are(client, lena):
    client.force_login(lena)

    html = client.get("/account/").content.decode()

    assert "lena@dfe.example" in html
    assert "Department for Education" in html
    assert "Portfolio lead" in html
    assert 'href="/account/webhooks/"' in html


@pytest.mark.django_db
def test_idle_session_is_ended_with_a_message(client, alice, settings):
    client.force_login(alice)
    client.get("/")
    session = client.session
    # The stamp can be up to SESSION_ACTIVITY_RESOLUTION behind; idle counts past it.
    idle = settings.SESSION_IDLE_TIMEOUT + settings.SESSION_ACTIVITY_RESOLUTION
    session[SESSION_KEY] = int(time.time()) - idle - 1
    session.save()

    response = client.get("/account/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=%2Faccount%2F"
    login_page = client.get(response["Location"])
    assert "_auth_user_id" not in client.session
    assert "You were signed out because you did nothing for 30 minutes" in (
        login_page.content.decode()
    )


@pytest.mark.django_db
def test_session_active_within_the_timeout_stays_signed_in(client, alice, settings):
    client.force_login(alice)
    client.get("/")
    session = client.session
    session[SESSION_KEY] = int(time.time()) - settings.SESSION_IDLE_TIMEOUT + 60
    session.save()

    response = client.get("/account/")

    assert response.status_code == 200
    assert client.session[SESSION_KEY] >= int(time.time()) - 1


@pytest.mark.django_db
def test_signing_in_records_when(client, alice):
    before = int(time.time())
    sign_in(client, "alice@dfe.example", PASSWORD)

    assert before <= client.session[SIGNED_IN_KEY] <= int(time.time())


@pytest.mark.django_db
def test_active_session_ends_at_its_absolute_lifetime(client, alice, settings):
    assert settings.SESSION_ABSOLUTE_TIMEOUT == 12 * 60 * 60
    client.force_login(alice)
    session = client.session
    now = int(time.time())
    session[SIGNED_IN_KEY] = now - settings.SESSION_ABSOLUTE_TIMEOUT - 1
    session[SESSION_KEY] = now - 5  # busy a moment ago: not idle
    session.save()

    response = client.get("/account/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=%2Faccount%2F"
    login_page = client.get(response["Location"]).content.decode()
    assert "_auth_user_id" not in client.session
    assert "You were signed out because you signed in more than 12 hours ago" in login_page


@pytest.mark.django_db
def test_requests_do_not_extend_the_absolute_lifetime(client, alice, settings):
    client.force_login(alice)
    signed_in = client.session[SIGNED_IN_KEY]
    for _ in range(3):
        assert client.get("/account/").status_code == 200

    assert client.session[SIGNED_IN_KEY] == signed_in
    session = client.session
    session[SIGNED_IN_KEY] = int(time.time()) - settings.SESSION_ABSOLUTE_TIMEOUT + 60
    session.save()
    assert client.get("/account/").status_code == 200  # a minute left


@pytest.mark.django_db
def test_session_from_before_the_rule_gets_its_lifetime_from_now(client, alice):
    client.force_login(alice)
    session = client.session
    del session[SIGNED_IN_KEY]
    session.save()

    assert client.get("/account/").status_code == 200
    assert client.session[SIGNED_IN_KEY] >= int(time.time()) - 1


@pytest.mark.django_db
def test_keep_alive_says_less_when_the_absolute_lifetime_ends_first(client, alice, settings):
    client.force_login(alice)
    session = client.session
    session[SIGNED_IN_KEY] = int(time.time()) - settings.SESSION_ABSOLUTE_TIMEOUT + 300
    session.save()

    left = client.get("/accounts/keep-alive/").json()["expires_in"]

    assert 298 <= left <= 300


@pytest.mark.django_db
def test_keep_alive_answers_the_time_left(client, alice, settings):
    client.force_login(alice)

    response = client.get("/accounts/keep-alive/")

    assert response.status_code == 200
    assert response.json() == {"expires_in": settings.SESSION_IDLE_TIMEOUT}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_keep_alive_signed_out_is_401(client):
    response = client.get("/accounts/keep-alive/")

    assert response.status_code == 401
    assert response.json() == {"expires_in": 0}


@pytest.mark.django_db
def test_timeout_warning_is_on_signed_in_pages_only(client, alice):
    assert b"app-timeout-warning" not in client.get("/privacy/").content

    client.force_login(alice)
    html = client.get("/privacy/").content.decode()

    assert 'data-module="app-timeout-warning"' in html
    assert 'data-timeout-seconds="1800"' in html
    assert 'data-keep-alive-url="/accounts/keep-alive/"' in html


@pytest.mark.django_db
def test_password_reset_emails_a_link_that_sets_a_new_password(client, alice):
    response = client.post("/accounts/password-reset/", {"email": "alice@dfe.example"})

    assert response.status_code == 302
    assert response["Location"] == "/accounts/password-reset/sent/"
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["alice@dfe.example"]
    assert message.subject == "Reset your password for Propose an innovation"
    link = re.search(r"http://127\.0\.0\.1:8000(/accounts/password-reset/\S+/)", str(message.body))
    assert link is not None

    form_page = client.get(link.group(1), follow=True)
    assert form_page.context["validlink"] is True
    new_password = "a brand new long passphrase"
    done = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": new_password, "new_password2": new_password},
    )
    assert done.status_code == 302
    assert done["Location"] == "/accounts/password-reset/complete/"
    client.logout()
    assert sign_in(client, "alice@dfe.example", new_password).status_code == 302


@pytest.mark.django_db
def test_password_reset_for_unknown_email_says_the_same_and_sends_nothing(client):
    response = client.post("/accounts/password-reset/", {"email": "nobody@dfe.example"})

    assert response.status_code == 302
    assert response["Location"] == "/accounts/password-reset/sent/"
    assert mail.outbox == []


@pytest.mark.django_db
def test_password_reset_with_bad_link_says_so(client, alice):
    response = client.get("/accounts/password-reset/MQ/bad-token/")

    assert response.status_code == 200
    assert title_of(response) == page_title("This link does not work")


@pytest.mark.django_db
def test_password_reset_mismatch_shows_govuk_errors(client, alice):
    client.post("/accounts/password-reset/", {"email": "alice@dfe.example"})
    found = re.search(r"http://127\.0\.0\.1:8000(\S+)", str(mail.outbox[0].body))
    assert found is not None
    path = found.group(1)
    form_url = client.get(path, follow=True).redirect_chain[-1][0]

    response = client.post(
        form_url, {"new_password1": "a brand new long passphrase", "new_password2": "other"}
    )

    assert title_of(response) == page_title("Choose a new password", error=True)
    assert '<a href="#id_new_password2">The passwords do not match</a>' in (
        response.content.decode()
    )


@pytest.mark.django_db
def test_timeout_warning_counts_down_to_the_absolute_lifetime_when_it_is_sooner(
    client, alice, settings
):
    client.force_login(alice)
    session = client.session
    session[SIGNED_IN_KEY] = int(time.time()) - settings.SESSION_ABSOLUTE_TIMEOUT + 600
    session.save()

    html = client.get("/privacy/").content.decode()

    seconds = int(html.split('data-timeout-seconds="', 1)[1].split('"', 1)[0])
    assert 598 <= seconds <= 600


@pytest.mark.django_db
def test_a_busy_signed_in_person_writes_their_session_at_most_once_a_minute(
    client, alice, settings
):
    settings.SESSION_ACTIVITY_RESOLUTION = 60  # the default (the tests' settings stamp always)
    client.force_login(alice)
    client.get("/account/")  # stamps the idle clock

    with CaptureQueriesContext(connection) as queries:
        for _ in range(3):
            assert client.get("/account/").status_code == 200
    writes = [
        q["sql"]
        for q in queries.captured_queries
        if "django_session" in q["sql"] and not q["sql"].lstrip().upper().startswith("SELECT")
    ]
    assert writes == []

    session = client.session
    session[SESSION_KEY] = int(time.time()) - 60
    session.save()
    with CaptureQueriesContext(connection) as queries:
        client.get("/account/")
    assert any(
        "django_session" in q["sql"] and not q["sql"].lstrip().upper().startswith("SELECT")
        for q in queries.captured_queries
    )


@pytest.mark.django_db
def test_requests_arriving_together_write_a_due_stamp_once(client, alice, settings) -> None:
    """Two requests that both read the session before either wrote it (two tabs,
    a page and its neighbour): only the first writes the stamp that fell due."""
    settings.SESSION_ACTIVITY_RESOLUTION = 60
    client.force_login(alice)
    stored = client.session
    stored[SESSION_KEY] = int(time.time()) - 61
    stored.save()
    engine = import_module(settings.SESSION_ENGINE)

    def arriving() -> HttpRequest:
        request = RequestFactory().get("/account/")
        request.session = engine.SessionStore(stored.session_key)
        request.user = alice
        request.session.load()  # each read the session as it was
        return request

    first, second = arriving(), arriving()
    middleware = SessionTimeoutMiddleware(lambda request: HttpResponse("ok"))
    middleware(first)
    middleware(second)
    assert first.session.modified
    assert not second.session.modified
