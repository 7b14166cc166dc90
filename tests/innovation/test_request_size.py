"""Request bodies over the limit are refused from Content-Length, before they are read
(innovation.middleware.RequestSizeLimitMiddleware): a GOV.UK page for pages, the API's
JSON error for the API."""

from __future__ import annotations

import io
import socket
import time
from urllib.parse import urlsplit

import pytest

from tests.pages import page_title, title_of
from tests.workers.helpers import draft


class RecordingBody(io.RawIOBase):
    """A request body that counts what was read of it."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.read_bytes = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def, override]
        n = min(len(buffer), self.size - self.read_bytes)
        buffer[:n] = b"x" * n
        self.read_bytes += n
        return n


@pytest.mark.django_db
def test_oversized_upload_gets_the_413_page_unread(client, alice, settings):
    proposal = draft(alice)
    client.force_login(alice)
    size = settings.REQUEST_BODY_MAX_BYTES + 1
    body = RecordingBody(size)

    response = client.generic(
        "POST",
        f"/proposals/{proposal.reference}/edit/attachments/",
        b"",
        content_type="multipart/form-data; boundary=xyz",
        CONTENT_LENGTH=str(size),
        **{"wsgi.input": body},
    )

    assert response.status_code == 413
    assert title_of(response) == page_title("What you sent is too big")
    assert "each file you attach must be smaller than 10 MB" in response.content.decode()
    assert body.read_bytes == 0
    assert proposal.attachments.count() == 0


@pytest.mark.django_db
def test_oversized_api_request_gets_the_json_error(client, settings):
    size = settings.REQUEST_BODY_MAX_BYTES + 1
    body = RecordingBody(size)

    response = client.generic(
        "POST",
        "/api/v1/proposals/",
        b"",
        content_type="application/json",
        CONTENT_LENGTH=str(size),
        **{"wsgi.input": body},
    )

    assert response.status_code == 413
    assert response.json() == {
        "detail": "The request is too large: it must be smaller than 12 MB",
        "code": "request_too_large",
    }
    assert body.read_bytes == 0


@pytest.mark.django_db
def test_a_request_at_the_limit_is_let_through(client, settings):
    settings.REQUEST_BODY_MAX_BYTES = 4096

    response = client.post("/accounts/login/", {"username": "a@b.example", "password": "x" * 3000})

    assert response.status_code == 200  # the sign-in form answering, not a 413


@pytest.mark.django_db(transaction=True)
def test_server_answers_413_without_waiting_for_the_body(live_server, reference_data, settings):
    """Over a real socket: only the headers are sent, announcing a gigabyte; the
    answer comes at once, so nothing waited to read (or store) the body."""
    parts = urlsplit(live_server.url)
    started = time.monotonic()
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(
            b"POST /accounts/login/ HTTP/1.1\r\n"
            b"Host: " + parts.netloc.encode() + b"\r\n"
            b"Content-Type: multipart/form-data; boundary=xyz\r\n"
            b"Content-Length: 1073741824\r\n\r\n"
        )
        answer = sock.recv(65536).decode("latin-1")

    assert answer.startswith("HTTP/1.1 413")
    assert time.monotonic() - started < 5
