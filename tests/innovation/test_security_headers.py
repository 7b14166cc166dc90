"""Every page this layer serves sends the security headers (SPEC: strict CSP,
HSTS, nosniff, Referrer-Policy, no framing) and production cookies are
Secure and HttpOnly. Tests run with DEBUG off, as production does."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

PAGES = [
    "/",
    "/privacy/",
    "/accessibility/",
    "/cookies/",
    "/accounts/login/",
    "/accounts/password-reset/",
    "/accounts/password-reset/sent/",
    "/no-such-page/",
]
SIGNED_IN_PAGES = [
    "/",
    "/account/",
    "/privacy/",
    "/proposals/",
    "/proposals/new/",
    "/challenges/",
    "/account/tokens/",
    "/account/tokens/new/",
]


def assert_security_headers(response) -> None:
    csp = response.headers["Content-Security-Policy"]
    directives = {}
    for part in filter(None, (p.strip() for p in csp.split(";"))):
        name, _, value = part.partition(" ")
        directives[name] = value
    assert "'unsafe-inline'" not in csp
    assert "'unsafe-eval'" not in csp
    assert directives["default-src"] == "'self'"
    assert directives["script-src"].startswith("'self' 'nonce-")
    assert directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "camera=()" in response.headers["Permissions-Policy"]
    assert response.headers["Strict-Transport-Security"] == (
        "max-age=31536000; includeSubDomains; preload"
    )


@pytest.mark.django_db
@pytest.mark.parametrize("path", PAGES)
def test_pages_send_security_headers(client, path):
    response = client.get(path, secure=True)

    assert_security_headers(response)


@pytest.mark.django_db
@pytest.mark.parametrize("path", SIGNED_IN_PAGES)
def test_signed_in_pages_send_security_headers(client, alice, path):
    client.force_login(alice)

    response = client.get(path, secure=True)

    assert response.status_code == 200
    assert_security_headers(response)


@pytest.mark.django_db
def test_inline_script_carries_the_nonce_of_the_policy(client):
    response = client.get("/", secure=True)

    nonce = response.headers["Content-Security-Policy"].split("'nonce-", 1)[1].split("'", 1)[0]
    html = response.content.decode()
    assert html.count("<script") == 2
    assert f'<script nonce="{nonce}">' in html
    assert '<script type="module" src="/static/js/init.mjs">' in html
    assert " style=" not in html
    assert "<style" not in html


@pytest.mark.django_db
def test_plain_http_is_redirected_to_https_in_production(client, settings):
    settings.SECURE_SSL_REDIRECT = True

    response = client.get("/privacy/")

    assert response.status_code == 301
    assert response["Location"] == "https://testserver/privacy/"


@pytest.mark.django_db
def test_session_and_csrf_cookies_are_secure_and_http_only(client, alice):
    client.get("/accounts/login/", secure=True)
    response = client.post(
        "/accounts/login/",
        {"username": "alice@dfe.example", "password": "correct horse battery staple"},
        secure=True,
    )

    assert response.status_code == 302
    session_cookie = response.cookies["sessionid"]
    csrf_cookie = client.cookies["csrftoken"]
    assert session_cookie["secure"] is True
    assert session_cookie["httponly"] is True
    assert session_cookie["samesite"] == "Lax"
    assert csrf_cookie["secure"] is True
    assert csrf_cookie["httponly"] is True


@pytest.mark.django_db
@pytest.mark.urls("tests.innovation.error_urls")
@pytest.mark.parametrize(("path", "status"), [("/forbidden/", 403), ("/bad-request/", 400)])
def test_error_pages_send_security_headers(client, path, status):
    response = client.get(path, secure=True)

    assert response.status_code == status
    assert_security_headers(response)


@pytest.mark.django_db
def test_csrf_failure_and_lockout_pages_send_security_headers(alice):
    csrf_response = Client(enforce_csrf_checks=True).post(
        "/accounts/login/", {"username": "alice@dfe.example", "password": "x"}, secure=True
    )
    client = Client()
    for _ in range(5):
        locked = client.post(
            "/accounts/login/", {"username": "alice@dfe.example", "password": "x"}, secure=True
        )

    assert csrf_response.status_code == 403
    assert_security_headers(csrf_response)
    assert locked.status_code == 429
    assert_security_headers(locked)


def _pages_without_parameters() -> list[str]:
    """Every URL of the service that takes no parameter, from the URL list itself, so
    a page added later is checked without anyone remembering to list it."""
    paths: list[str] = []

    def walk(patterns, prefix: str) -> None:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern) and "<" not in route and "(" not in route:
                paths.append("/" + route.lstrip("^").rstrip("$"))

    walk(get_resolver().url_patterns, "")
    return sorted({p for p in paths if not p.startswith(("/admin", "/api/"))})


@pytest.mark.django_db
def test_every_html_page_of_the_service_sends_the_security_headers(client, lena):
    client.force_login(lena)
    checked = []
    for path in _pages_without_parameters():
        response = client.get(path, secure=True)  # HSTS is only sent over HTTPS
        if response.status_code == 200 and response.headers["Content-Type"].startswith("text/html"):
            assert_security_headers(response)
            checked.append(path)
    assert {"/review/", "/portfolio/", "/reports/", "/proposals/", "/lessons/"} <= set(checked)
