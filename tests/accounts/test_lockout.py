"""Sign-in lockout by account and by IP address, separately (accounts.lockout).

Password spraying (one address, many emails) and one account attacked from
many addresses are both limited; the page says the same whether or not the
account exists; the client's address is not taken from a header the client
writes; and with the cache (Redis) not answering, sign-in still works, still
limited, never a 500.
"""

from __future__ import annotations

import logging
import re
import secrets
import socket

import pytest
import redis
from django.core.cache import caches
from django.test import Client

from accounts import lockout

PASSWORD = "correct horse battery staple"


def sign_in(client, email: str, password: str, ip: str = "127.0.0.1", **headers: str):
    return client.post(
        "/accounts/login/", {"username": email, "password": password}, REMOTE_ADDR=ip, **headers
    )


def comparable(html: str, email: str) -> str:
    """The page without what differs by design: nonces, CSRF tokens, the email typed."""
    html = re.sub(r'nonce="[^"]*"', 'nonce=""', html)
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", html)
    return html.replace(email, "EMAIL")


@pytest.mark.django_db
def test_password_spraying_from_one_address_is_stopped_across_emails(client, alice, settings):
    settings.SIGN_IN_IP_LIMIT = 12
    # Each email fails fewer times than the account limit: only the address adds up.
    statuses = [
        sign_in(client, f"person{i}@dfe.example", "Winter2026!", ip="203.0.113.7").status_code
        for i in range(12)
    ]

    sprayer = sign_in(client, "alice@dfe.example", PASSWORD, ip="203.0.113.7")
    elsewhere = sign_in(client, "alice@dfe.example", PASSWORD, ip="198.51.100.20")

    assert statuses == [200] * 11 + [429]
    assert sprayer.status_code == 429
    assert "You cannot sign in at the moment" in sprayer.content.decode()
    assert elsewhere.status_code == 302  # alice herself, from her own address


@pytest.mark.django_db
def test_one_account_attacked_from_many_addresses_is_locked(client, alice, amir, settings):
    statuses = [
        sign_in(client, "alice@dfe.example", "guess", ip=f"198.51.100.{i}").status_code
        for i in range(1, 6)
    ]

    alice_anywhere = sign_in(client, "alice@dfe.example", PASSWORD, ip="192.0.2.44")
    amir_from_an_attacking_address = sign_in(
        client, "amir@dfe.example", PASSWORD, ip="198.51.100.1"
    )

    assert statuses == [200, 200, 200, 200, 429]
    assert alice_anywhere.status_code == 429
    assert "_auth_user_id" not in client.session or client.session["_auth_user_id"] == str(amir.pk)
    assert amir_from_an_attacking_address.status_code == 302


@pytest.mark.django_db
def test_lockout_page_is_the_same_whether_or_not_the_account_exists(alice):
    pages = {}
    for email in ("alice@dfe.example", "nobody@dfe.example"):
        client = Client()
        responses = [sign_in(client, email, "guess", ip=f"198.51.100.{i}") for i in range(1, 7)]
        pages[email] = [(r.status_code, comparable(r.content.decode(), email)) for r in responses]

    assert [s for s, _ in pages["alice@dfe.example"]] == [200, 200, 200, 200, 429, 429]
    assert pages["alice@dfe.example"] == pages["nobody@dfe.example"]


@pytest.mark.django_db
def test_forwarded_for_written_by_the_client_is_ignored(client, alice, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    settings.SIGN_IN_IP_LIMIT = 3
    for i in range(3):
        sign_in(
            client, f"p{i}@dfe.example", "x", ip="203.0.113.9", HTTP_X_FORWARDED_FOR=f"10.0.0.{i}"
        )

    response = sign_in(client, "alice@dfe.example", PASSWORD, ip="203.0.113.9")

    assert response.status_code == 429


@pytest.mark.django_db
def test_behind_a_proxy_each_client_is_counted_by_the_address_the_proxy_saw(
    client, alice, settings
):
    """People behind one load balancer are not locked out by one another: the
    proxy's own entry (the last) names each client; the client's own is ignored."""
    settings.TRUSTED_PROXY_COUNT = 1
    settings.SIGN_IN_IP_LIMIT = 3
    for i in range(3):
        sign_in(
            client,
            f"p{i}@dfe.example",
            "x",
            ip="10.0.0.1",  # the load balancer
            HTTP_X_FORWARDED_FOR=f"192.0.2.{i}, 203.0.113.50",
        )

    sprayer = sign_in(
        client, "alice@dfe.example", PASSWORD, ip="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.50"
    )
    colleague = sign_in(
        client, "alice@dfe.example", PASSWORD, ip="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.51"
    )

    assert (sprayer.status_code, colleague.status_code) == (429, 302)


@pytest.mark.django_db
def test_signing_in_clears_the_accounts_count_but_not_the_addresss(client, alice, settings):
    settings.SIGN_IN_IP_LIMIT = 6
    for _ in range(4):
        sign_in(client, "alice@dfe.example", "guess")
    assert sign_in(client, "alice@dfe.example", PASSWORD).status_code == 302
    client.post("/accounts/logout/")

    # The account starts again from zero: four more failures do not lock it...
    statuses = [
        sign_in(client, "alice@dfe.example", "guess", ip="192.0.2.1").status_code for _ in range(4)
    ]
    # ...but the first address had 4 failures, and 2 more reach its limit of 6.
    from_first = [sign_in(client, f"x{i}@dfe.example", "guess").status_code for i in range(2)]

    assert statuses == [200] * 4
    assert from_first == [200, 429]


@pytest.mark.django_db
def test_admin_sign_in_is_refused_while_locked(client, alice, settings):
    alice.is_staff = alice.is_superuser = True
    alice.save()
    for i in range(5):
        sign_in(client, "alice@dfe.example", "guess", ip=f"198.51.100.{i}")

    response = client.post(
        "/admin/login/?next=/admin/",
        {"username": "alice@dfe.example", "password": PASSWORD},
        REMOTE_ADDR="192.0.2.3",
    )

    assert response.status_code == 200  # the admin's form, with its error
    assert "_auth_user_id" not in client.session


# --- the shared cache: Redis, and Redis not answering ---------------------------------------


@pytest.fixture
def sign_in_cache_at(settings):
    def use(location: str, prefix: str = "") -> None:
        settings.CACHES = {
            **settings.CACHES,
            lockout.CACHE_ALIAS: {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": location,
                "KEY_PREFIX": prefix,
                "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
            },
        }

    return use


@pytest.mark.django_db
def test_counts_are_shared_through_redis(client, alice, require_redis, sign_in_cache_at):
    prefix = f"test-sign-in-{secrets.token_hex(4)}"
    sign_in_cache_at(require_redis, prefix)
    try:
        for i in range(5):
            sign_in(client, "alice@dfe.example", "guess", ip=f"198.51.100.{i}")

        # Another process sees the same counts: read them with a client of our own.
        keys = redis.Redis.from_url(require_redis).keys(f"{prefix}:*")
        response = sign_in(client, "alice@dfe.example", PASSWORD, ip="192.0.2.9")
    finally:
        caches[lockout.CACHE_ALIAS].clear()

    assert len(keys) == 6  # one per address, one for the account
    assert response.status_code == 429


@pytest.mark.django_db
def test_with_redis_not_answering_sign_in_still_works_and_is_still_limited(
    client, alice, amir, sign_in_cache_at, caplog
):
    with socket.socket() as probe:  # a port nothing listens on: Redis is down
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sign_in_cache_at(f"redis://127.0.0.1:{port}/0")
    lockout._last_warning = 0.0

    with caplog.at_level(logging.WARNING, logger="accounts.lockout"):
        signed_in = sign_in(client, "amir@dfe.example", PASSWORD)
        client.post("/accounts/logout/")
        statuses = [sign_in(client, "alice@dfe.example", "guess").status_code for _ in range(6)]

    assert signed_in.status_code == 302
    assert statuses == [200, 200, 200, 200, 429, 429]
    assert "the shared cache did not answer" in caplog.text
