"""/healthz: is the database reachable, is the broker, and is every queue's worker alive?"""

from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, JsonResponse

from innovation.celery import app
from innovation.heartbeats import worker_status


def _database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:  # any failure to reach it means "down"; the cause goes to the log
        return "error"
    return "ok"


def _broker() -> str:
    # One attempt, bounded: a probe must answer quickly when the broker is down
    # (kombu's default retries wait 2 s before the second try even when the
    # port refuses at once).
    try:
        with app.connection_for_write(connect_timeout=2) as conn:
            conn.ensure_connection(max_retries=0, timeout=2)
    except Exception:
        return "error"
    return "ok"


def healthz(request: HttpRequest) -> JsonResponse:
    checks = {"database": _database(), "broker": _broker(), "worker": worker_status()}
    healthy = all(value == "ok" for value in checks.values())
    return JsonResponse(checks, status=200 if healthy else 503)
