"""Webhooks safe by construction: resolve once, check every address, connect to
that address (TLS still verifying the name), no redirects, plain errors for
leads, and every attempt kept.

Real sockets throughout: receivers listen on 127.0.0.1, and a rebinding DNS
answer is played by replacing the process's resolver (`socket.getaddrinfo`),
the one thing outside our code that a rebinding attack controls.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from proposals import dispatch, webhooks
from proposals.enums import AttemptOutcome, DeliveryStatus, WebhookEvent
from proposals.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from tests.workers.helpers import local_server, submitted

PUBLIC = "93.184.215.14"  # a public address; nothing here may depend on reaching it


@pytest.fixture
def endpoint_at(lena):
    def make(url: str) -> WebhookEndpoint:
        return WebhookEndpoint.objects.create(
            department=lena.department,
            url=url,
            secret="s3cret",
            events=[WebhookEvent.PROPOSAL_SUBMITTED.value],
            created_by=lena,
        )

    return make


@dataclass
class Listener:
    """A TCP listener on 127.0.0.1 that counts the connections it accepts."""

    port: int
    accepted: list[tuple[str, int]] = field(default_factory=list)


@contextmanager
def loopback_listener() -> Iterator[Listener]:
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.settimeout(0.1)
    listener = Listener(port=server.getsockname()[1])
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, peer = server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            listener.accepted.append(peer)
            conn.close()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield listener
    finally:
        stop.set()
        thread.join(2)
        server.close()


def fake_dns(monkeypatch, name: str, answers: list[list[str]]) -> list[str]:
    """Make `name` resolve to each list of addresses in turn (the last one from then on).

    Every other name, and numeric addresses, go to the real resolver. Returns
    the log of lookups of `name`, so a test can count them.
    """
    real = socket.getaddrinfo
    lookups: list[str] = []

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> list[Any]:
        if host != name:
            return real(host, port, *args, **kwargs)
        lookups.append(host)
        chosen = answers[min(len(lookups), len(answers)) - 1]
        if not chosen:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [
            (
                socket.AF_INET6 if ":" in a else socket.AF_INET,
                socket.SOCK_STREAM,
                socket.IPPROTO_TCP,
                "",
                (a, int(port), 0, 0) if ":" in a else (a, int(port)),
            )
            for a in chosen
        ]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return lookups


def attempts_of(delivery: WebhookDelivery) -> list[tuple[int, str, int | None, str]]:
    return [
        (a.number, a.outcome, a.response_status, a.error)
        for a in WebhookAttempt.objects.filter(delivery=delivery).order_by("number")
    ]


# --- DNS rebinding ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_rebinding_name_never_reaches_loopback(alice, endpoint_at, settings, monkeypatch):
    """The name answers a public address first and 127.0.0.1 after: the old code
    checked the first answer and connected by name, getting the second."""
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    settings.WEBHOOK_TIMEOUT_SECONDS = 2
    settings.NOTIFICATION_MAX_ATTEMPTS = 3
    with loopback_listener() as receiver:
        lookups = fake_dns(monkeypatch, "rebind.test", [[PUBLIC], ["127.0.0.1"]])
        endpoint_at(f"https://rebind.test:{receiver.port}/hook")
        submitted(alice)
        delivery = WebhookDelivery.objects.get()

        # First try: the public address, which does not answer here; retried.
        with pytest.raises(dispatch.TransientFailure):
            webhooks.deliver(str(delivery.pk))
        # Second try: the name now answers loopback, which is refused before connecting.
        assert webhooks.deliver(str(delivery.pk)) is False

    assert receiver.accepted == []
    assert len(lookups) == 2  # one lookup per try, never one for the check and one to connect
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED
    [first, second] = attempts_of(delivery)
    assert first[:3] == (1, AttemptOutcome.FAILED, None)
    assert first[3] in {webhooks.COULD_NOT_CONNECT, webhooks.TIMED_OUT}
    assert second == (2, AttemptOutcome.FAILED, None, webhooks.REFUSED)


@pytest.mark.django_db
def test_name_with_one_public_and_one_loopback_address_is_refused(
    alice, endpoint_at, settings, monkeypatch
):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    with loopback_listener() as receiver:
        fake_dns(monkeypatch, "mixed.test", [[PUBLIC, "127.0.0.1"]])
        endpoint_at(f"https://mixed.test:{receiver.port}/hook")
        submitted(alice)
        delivery = WebhookDelivery.objects.get()

        assert webhooks.deliver(str(delivery.pk)) is False

    assert receiver.accepted == []
    assert attempts_of(delivery) == [(1, AttemptOutcome.FAILED, None, webhooks.REFUSED)]


@pytest.mark.django_db
def test_connection_goes_to_the_checked_address_with_the_name_as_host(
    alice, endpoint_at, settings, monkeypatch
):
    """`pinned.test` exists only in the fake resolver, looked up once: the request
    reached the receiver by the address, and still names the host."""
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True  # the receiver is on loopback
    with local_server(204) as (url, recorded):
        port = int(url.rsplit(":", 1)[1])
        lookups = fake_dns(monkeypatch, "pinned.test", [["127.0.0.1"]])
        endpoint_at(f"http://pinned.test:{port}/in?x=1")
        submitted(alice)
        delivery = WebhookDelivery.objects.get()

        assert webhooks.deliver(str(delivery.pk)) is True

    [request] = recorded.requests
    assert request["path"] == "/in?x=1"
    assert request["headers"]["Host"] == f"pinned.test:{port}"
    assert lookups == ["pinned.test"]


# --- TLS still checks the host name ------------------------------------------------------------


def _certificate(tmp_path: Path, name: str) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / f"{name}.pem", tmp_path / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@contextmanager
def tls_receiver(cert: Path, key: Path) -> Iterator[tuple[int, list[str], list[dict[str, str]]]]:
    """An HTTPS server on 127.0.0.1 recording the SNI names and the requests it gets."""
    names: list[str] = []
    requests: list[dict[str, str]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            requests.append(dict(self.headers.items()))
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            return

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    context.sni_callback = lambda sock, name, ctx: names.append(name or "")  # type: ignore[assignment, misc, func-returns-value]
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], names, requests
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.django_db
def test_tls_verifies_the_host_name_while_connecting_to_the_address(
    alice, endpoint_at, settings, monkeypatch, tmp_path
):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    cert, key = _certificate(tmp_path, "hooks.test")
    settings.WEBHOOK_CA_BUNDLE = str(cert)
    with tls_receiver(cert, key) as (port, names, requests):
        fake_dns(monkeypatch, "hooks.test", [["127.0.0.1"]])
        endpoint_at(f"https://hooks.test:{port}/in")
        submitted(alice)
        delivery = WebhookDelivery.objects.get()

        assert webhooks.deliver(str(delivery.pk)) is True

    assert names == ["hooks.test"]
    assert [r["Host"] for r in requests] == [f"hooks.test:{port}"]


@pytest.mark.django_db
def test_certificate_for_another_name_is_refused(
    alice, endpoint_at, settings, monkeypatch, tmp_path
):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    cert, key = _certificate(tmp_path, "other.test")
    settings.WEBHOOK_CA_BUNDLE = str(cert)
    with tls_receiver(cert, key) as (port, _names, requests):
        fake_dns(monkeypatch, "hooks.test", [["127.0.0.1"]])
        endpoint_at(f"https://hooks.test:{port}/in")
        submitted(alice)
        delivery = WebhookDelivery.objects.get()

        with pytest.raises(dispatch.TransientFailure):
            webhooks.deliver(str(delivery.pk))

    assert requests == []
    assert attempts_of(delivery) == [(1, AttemptOutcome.FAILED, None, webhooks.NOT_SECURE)]


# --- redirects ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_redirect_is_not_followed(alice, endpoint_at, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    with local_server(204) as (inside, inside_recorded):  # noqa: SIM117 - the second names the first
        with local_server(302, headers={"Location": f"{inside}/admin"}) as (outside, _):
            endpoint_at(f"{outside}/hook")
            submitted(alice)
            delivery = WebhookDelivery.objects.get()

            assert webhooks.deliver(str(delivery.pk)) is False

    assert inside_recorded.requests == []
    delivery.refresh_from_db()
    assert (delivery.status, delivery.response_status) == (DeliveryStatus.FAILED, 302)
    assert delivery.last_error == "Answered 302 (a redirect, which is not followed)"


# --- what a lead is told -----------------------------------------------------------------------


@pytest.mark.django_db
def test_closed_port_is_reported_without_network_detail(alice, endpoint_at, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    endpoint_at(f"http://127.0.0.1:{port}/hook")
    submitted(alice)
    delivery = WebhookDelivery.objects.get()

    with pytest.raises(dispatch.TransientFailure):
        webhooks.deliver(str(delivery.pk))

    delivery.refresh_from_db()
    assert delivery.last_error == "Could not connect"
    assert str(port) not in delivery.last_error
    assert attempts_of(delivery) == [(1, AttemptOutcome.FAILED, None, "Could not connect")]


@pytest.mark.django_db
def test_silent_endpoint_is_reported_as_timed_out(alice, endpoint_at, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.5
    with loopback_listener() as silent:  # accepts, then says nothing
        endpoint_at(f"http://127.0.0.1:{silent.port}/hook")
        submitted(alice)
        delivery = WebhookDelivery.objects.get()

        with pytest.raises(dispatch.TransientFailure):
            webhooks.deliver(str(delivery.pk))

    delivery.refresh_from_db()
    assert delivery.last_error in {"Timed out", "The connection was broken"}


@pytest.mark.django_db
def test_unknown_host_is_reported_plainly(alice, endpoint_at, settings, monkeypatch):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    fake_dns(monkeypatch, "nowhere.test", [[]])
    endpoint_at("https://nowhere.test/hook")
    submitted(alice)
    delivery = WebhookDelivery.objects.get()

    with pytest.raises(dispatch.TransientFailure):
        webhooks.deliver(str(delivery.pk))

    delivery.refresh_from_db()
    assert delivery.last_error == "Could not find the address"


# --- every attempt is its own row ----------------------------------------------------------------


@pytest.mark.django_db
def test_every_attempt_is_recorded(alice, endpoint_at, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    with local_server(204) as (url, recorded):
        recorded.answers = [503, 500]
        endpoint_at(url)
        submitted(alice)
        delivery = WebhookDelivery.objects.get()

        for _ in range(2):
            with pytest.raises(dispatch.TransientFailure):
                webhooks.deliver(str(delivery.pk))
        assert webhooks.deliver(str(delivery.pk)) is True

    assert attempts_of(delivery) == [
        (1, AttemptOutcome.FAILED, 503, "Answered 503"),
        (2, AttemptOutcome.FAILED, 500, "Answered 500"),
        (3, AttemptOutcome.SENT, 204, ""),
    ]
    assert all(a.finished_at for a in WebhookAttempt.objects.filter(delivery=delivery))


@pytest.mark.django_db
def test_attempt_numbers_carry_on_after_an_operators_retry(alice, endpoint_at, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    settings.NOTIFICATION_MAX_ATTEMPTS = 1
    with local_server(204) as (url, recorded):
        recorded.answers = [503]
        endpoint_at(url)
        submitted(alice)
        delivery = WebhookDelivery.objects.get()
        assert webhooks.deliver(str(delivery.pk)) is False  # failed for good
        # What the admin's "Deliver again" does: back to pending, attempts from 0.
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=DeliveryStatus.PENDING, attempts=0
        )
        assert webhooks.deliver(str(delivery.pk)) is True

    assert [(n, o) for n, o, _, _ in attempts_of(delivery)] == [
        (1, AttemptOutcome.FAILED),
        (2, AttemptOutcome.SENT),
    ]


# --- which addresses are refused -----------------------------------------------------------------

REFUSED = [
    "0.0.0.0",  # noqa: S104 - an address to refuse, not one to bind
    "10.1.2.3",
    "127.0.0.1",
    "127.8.9.10",
    "169.254.169.254",  # cloud metadata
    "172.16.0.1",
    "192.168.0.10",
    "100.64.0.1",  # shared address space (carrier-grade NAT)
    "100.127.255.254",
    "192.0.0.8",
    "192.0.2.1",
    "198.18.0.1",
    "198.51.100.7",
    "203.0.113.9",
    "224.0.0.1",
    "224.0.1.1",
    "239.255.255.250",
    "240.0.0.1",
    "255.255.255.255",
    "::",
    "::1",
    "::7f00:1",  # IPv4-compatible loopback
    "::ffff:127.0.0.1",
    "::ffff:10.0.0.1",
    "::ffff:100.64.0.1",
    "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
    "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
    "2002:7f00:1::1",  # 6to4 of 127.0.0.1
    "2002:a00:1::1",  # 6to4 of 10.0.0.1
    "2002:6440:1::1",  # 6to4 of 100.64.0.1
    "2002:a9fe:a9fe::1",  # 6to4 of 169.254.169.254
    "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo
    "2001:0:4136:e378:8000:63bf:80ff:fffe",  # Teredo whose client is 127.0.0.1
    "2001:db8::1",
    "fc00::1",
    "fd00::1",
    "fe80::1",
    "ff02::1",
    "100::1",
    "64:ff9b:1::a00:1",  # local-use NAT64
    "3fff::1",  # documentation (2024)
    "5f00::1",  # SRv6 SIDs
]
ALLOWED = [
    "8.8.8.8",
    "1.1.1.1",
    "93.184.215.14",
    "2606:4700:4700::1111",
    "2a00:1450:4009:81b::200e",
    "::ffff:8.8.8.8",
    "64:ff9b::808:808",  # NAT64 of 8.8.8.8
    "2002:808:808::1",  # 6to4 of 8.8.8.8
]


@pytest.mark.parametrize("address", REFUSED)
def test_special_purpose_address_is_refused(address, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    host = f"[{address}]" if ":" in address else address

    with pytest.raises(webhooks.AddressNotAllowed):
        webhooks.check_destination(f"https://{host}/hook")


@pytest.mark.parametrize("address", ALLOWED)
def test_public_address_is_allowed(address, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    host = f"[{address}]" if ":" in address else address

    assert webhooks.check_destination(f"https://{host}/hook") == [address]


def test_the_table_agrees_with_address_allowed():
    assert [a for a in REFUSED if webhooks.address_allowed(ipaddress.ip_address(a))] == []
    assert [a for a in ALLOWED if not webhooks.address_allowed(ipaddress.ip_address(a))] == []
