"""Helpers for the workers' tests: proposals driven through the real services,
and small local servers standing in for the outside world (GOV.UK Notify, a
webhook receiver)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from accounts.models import User
from proposals import services
from proposals.models import Proposal

ANSWERS = {
    "title": "Read handwritten forms automatically",
    "summary": "Caseworkers retype 40,000 paper forms a year.",
    "problem": "Forms are retyped by hand, which is slow and error-prone.",
    "who_has_the_problem": "Caseworkers in the benefits team",
    "proposed_solution": "Use optical character recognition to read the forms.",
    "expected_benefits": "Faster decisions and fewer typing errors.",
    "cost_band": "10k_50k",
}


def draft(author: User, **answers: Any) -> Proposal:
    return services.proposal_create_draft(author=author, data=ANSWERS | answers)


def submitted(author: User, **answers: Any) -> Proposal:
    proposal = draft(author, **answers)
    return services.proposal_transition(proposal=proposal, actor=author, action="submit")


@dataclass
class Recorded:
    requests: list[dict[str, Any]] = field(default_factory=list)
    # What the next requests answer: a list of status codes, used in order, then 2xx.
    answers: list[int] = field(default_factory=list)


@contextmanager
def local_server(
    default_status: int = 201,
    body: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Iterator[tuple[str, Recorded]]:
    """A small threaded HTTP server on 127.0.0.1 recording every POST it receives."""
    recorded = Recorded()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            recorded.requests.append(
                {"path": self.path, "headers": dict(self.headers.items()), "body": raw}
            )
            status = recorded.answers.pop(0) if recorded.answers else default_status
            payload = json.dumps(body or {"id": "fake"}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", recorded
    finally:
        server.shutdown()
        server.server_close()
