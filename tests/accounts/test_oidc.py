"""Single sign-on against a local fake OpenID Connect provider.

The provider is a real HTTP server on 127.0.0.1 in a thread: it serves
authorize, token, userinfo and JWKS endpoints and issues ID tokens signed
with RS256 by a key made for the test run. mozilla-django-oidc talks to it
over HTTP exactly as it would to Microsoft Entra ID.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa

from accounts.models import Role, User
from tests.pages import page_title, title_of

CLIENT_ID = "propose-an-innovation"
CLIENT_SECRET = "fake-provider-secret"


@dataclass
class FakeProvider:
    """What the fake provider knows: its key, who signs in next, the codes it gave."""

    key: rsa.RSAPrivateKey
    signing_key: rsa.RSAPrivateKey  # a different key makes a forged token
    url: str = ""
    claims: dict[str, Any] = field(default_factory=dict)
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    tokens: dict[str, dict[str, Any]] = field(default_factory=dict)


def make_handler(provider: FakeProvider) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # keep the test output quiet
            pass

        def _json(self, body: dict[str, Any], status: int = 200) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            if parts.path == "/authorize":
                code = secrets.token_urlsafe(16)
                provider.codes[code] = {"nonce": query.get("nonce"), "claims": provider.claims}
                location = f"{query['redirect_uri']}?" + urlencode(
                    {"code": code, "state": query["state"]}
                )
                self.send_response(302)
                self.send_header("Location", location)
                self.end_headers()
            elif parts.path == "/userinfo":
                token = self.headers.get("Authorization", "").removeprefix("Bearer ")
                if token not in provider.tokens:
                    self._json({"error": "invalid_token"}, 401)
                else:
                    self._json(provider.tokens[token])
            elif parts.path == "/jwks":
                jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(provider.key.public_key()))
                self._json({"keys": [{**jwk, "kid": "test-key", "use": "sig", "alg": "RS256"}]})
            else:
                self._json({"error": "not_found"}, 404)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            grant = provider.codes.pop(form.get("code", ""), None)
            if (
                urlsplit(self.path).path != "/token"
                or form.get("client_id") != CLIENT_ID
                or form.get("client_secret") != CLIENT_SECRET
                or grant is None
            ):
                self._json({"error": "invalid_grant"}, 400)
                return
            now = int(time.time())
            id_token = jwt.encode(
                {
                    "iss": provider.url,
                    "aud": CLIENT_ID,
                    "sub": grant["claims"].get("email", "someone"),
                    "iat": now,
                    "exp": now + 300,
                    "nonce": grant["nonce"],
                },
                provider.signing_key,
                algorithm="RS256",
                headers={"kid": "test-key"},
            )
            access_token = secrets.token_urlsafe(16)
            provider.tokens[access_token] = grant["claims"]
            self._json({"access_token": access_token, "token_type": "Bearer", "id_token": id_token})

    return Handler


@pytest.fixture(scope="module")
def rsa_keys() -> tuple[rsa.RSAPrivateKey, rsa.RSAPrivateKey]:
    return (
        rsa.generate_private_key(public_exponent=65537, key_size=2048),
        rsa.generate_private_key(public_exponent=65537, key_size=2048),
    )


@pytest.fixture
def provider(rsa_keys, settings, monkeypatch) -> Iterator[FakeProvider]:
    fake = FakeProvider(key=rsa_keys[0], signing_key=rsa_keys[0])
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(fake))
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    # What settings.py sets when OIDC_CLIENT_ID and the endpoints are in the environment.
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    settings.OIDC_ENABLED = True
    settings.OIDC_RP_CLIENT_ID = CLIENT_ID
    settings.OIDC_RP_CLIENT_SECRET = CLIENT_SECRET
    settings.OIDC_RP_SIGN_ALGO = "RS256"
    settings.OIDC_RP_SCOPES = "openid email profile"
    settings.OIDC_OP_AUTHORIZATION_ENDPOINT = f"{fake.url}/authorize"
    settings.OIDC_OP_TOKEN_ENDPOINT = f"{fake.url}/token"
    settings.OIDC_OP_USER_ENDPOINT = f"{fake.url}/userinfo"
    settings.OIDC_OP_JWKS_ENDPOINT = f"{fake.url}/jwks"
    settings.LOGIN_REDIRECT_URL_FAILURE = settings.LOGIN_URL
    settings.AUTHENTICATION_BACKENDS = [
        *settings.AUTHENTICATION_BACKENDS,
        "accounts.oidc.DepartmentOIDCBackend",
    ]
    settings.ROOT_URLCONF = "tests.accounts.oidc_urls"
    yield fake
    server.shutdown()
    server.server_close()


def sign_in_with_provider(client, provider: FakeProvider, claims: dict[str, Any]):
    """Follow the redirects a browser would: us → provider → our callback."""
    provider.claims = claims
    start = client.get("/oidc/authenticate/")
    assert start.status_code == 302
    assert start["Location"].startswith(f"{provider.url}/authorize?")
    at_provider = requests.get(start["Location"], allow_redirects=False, timeout=5)
    callback = urlsplit(at_provider.headers["Location"])
    assert callback.path == "/oidc/callback/"
    return client.get(f"{callback.path}?{callback.query}")


@pytest.mark.django_db
def test_sign_in_page_offers_department_sign_in_when_configured(client, provider):
    html = client.get("/accounts/login/").content.decode()

    assert 'href="/oidc/authenticate/"' in html
    assert "Sign in with your department account" in html


@pytest.mark.django_db
def test_first_sso_sign_in_creates_a_submitter_in_the_department_of_the_domain(client, provider):
    response = sign_in_with_provider(
        client, provider, {"email": "Nadia.Shah@dfe.example", "name": "Nadia Shah"}
    )

    assert response.status_code == 302
    assert response["Location"] == "/"
    user = User.objects.get(email="nadia.shah@dfe.example")
    assert user.department.slug == "dfe"
    assert user.role == Role.SUBMITTER
    assert user.full_name == "Nadia Shah"
    assert user.has_usable_password() is False
    assert client.session["_auth_user_id"] == str(user.pk)


@pytest.mark.django_db
def test_later_sso_sign_in_finds_the_existing_user_by_email(client, provider, lena):
    response = sign_in_with_provider(
        client, provider, {"email": "LENA@dfe.example", "name": "Someone Else"}
    )

    assert response.status_code == 302
    assert User.objects.filter(email__iexact="lena@dfe.example").count() == 1
    assert client.session["_auth_user_id"] == str(lena.pk)
    lena.refresh_from_db()
    assert lena.role == Role.LEAD  # a sign-in never changes a role


@pytest.mark.django_db
def test_sso_sign_in_from_an_unknown_domain_is_refused_with_a_reason(client, provider):
    response = sign_in_with_provider(client, provider, {"email": "eve@example.com"})

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"
    assert not User.objects.filter(email="eve@example.com").exists()
    assert "_auth_user_id" not in client.session
    page = client.get("/accounts/login/")
    assert "You cannot sign in with example.com yet" in page.content.decode()


@pytest.mark.django_db
def test_sso_sign_in_from_a_subdomain_of_a_departments_domain_is_refused(client, provider):
    # The one rule (Department.objects.for_email), which invitations use too:
    # the department's domain exactly, never a subdomain of it.
    response = sign_in_with_provider(client, provider, {"email": "head@school.dfe.example"})

    assert response["Location"] == "/accounts/login/"
    assert not User.objects.filter(email="head@school.dfe.example").exists()
    page = client.get("/accounts/login/")
    assert "You cannot sign in with school.dfe.example yet" in page.content.decode()


@pytest.mark.django_db
def test_sso_sign_in_with_an_unverified_email_is_refused(client, provider):
    response = sign_in_with_provider(
        client, provider, {"email": "mallory@dfe.example", "email_verified": False}
    )

    assert response["Location"] == "/accounts/login/"
    assert not User.objects.filter(email="mallory@dfe.example").exists()


@pytest.mark.django_db
def test_sso_sign_in_of_a_deactivated_user_is_refused(client, provider, alice):
    alice.is_active = False
    alice.save(update_fields=["is_active"])

    response = sign_in_with_provider(client, provider, {"email": "alice@dfe.example"})

    assert response["Location"] == "/accounts/login/"
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_sso_token_signed_by_another_key_is_refused(client, provider, rsa_keys):
    provider.signing_key = rsa_keys[1]

    response = sign_in_with_provider(client, provider, {"email": "nadia@dfe.example"})

    assert response.status_code == 400
    assert title_of(response) == page_title("Sorry, there is a problem with your request")
    assert not User.objects.filter(email="nadia@dfe.example").exists()
    assert "_auth_user_id" not in client.session
