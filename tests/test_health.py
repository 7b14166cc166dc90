"""/healthz: 200 with {"database": "ok", "broker": "ok"} when healthy, 503 naming
what is down. A down service is a real one pointed at a closed port, in a
separate process so this process's connections are untouched."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parent.parent

# Asks /healthz through Django's test client in a fresh process with its own settings.
PROBE = """
import json, time, django
django.setup()
from django.test import Client
started = time.monotonic()
response = Client().get("/healthz")
print(json.dumps({"status": response.status_code, "body": response.json(),
                  "seconds": time.monotonic() - started}))
"""


def closed_port() -> int:
    """A local port with nothing listening on it (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def probe(**env: str) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=BASE_DIR,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "innovation.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.django_db
def test_healthz_answers_ok_when_database_and_broker_are_up(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"database": "ok", "broker": "ok"}


def test_healthz_answers_503_quickly_when_the_broker_is_down(tmp_path):
    # The probe's own SQLite database, so only the broker is down whatever
    # DATABASE_URL this run uses.
    answer = probe(
        CELERY_BROKER_URL=f"redis://127.0.0.1:{closed_port()}/0",
        DATABASE_URL=f"sqlite:///{tmp_path / 'probe.sqlite3'}",
    )

    assert answer["status"] == 503
    assert answer["body"] == {"database": "ok", "broker": "error"}
    # The probe itself, not the process start-up, must be quick.
    assert answer["seconds"] < 3, answer


def test_healthz_answers_503_when_the_database_is_down():
    url = f"postgres://postgres@127.0.0.1:{closed_port()}/innovation"

    answer = probe(DATABASE_URL=url)

    assert answer["status"] == 503
    assert answer["body"] == {"database": "error", "broker": "ok"}
