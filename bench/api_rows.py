"""How close the proposals list comes to the floor: the same page of rows
fetched with one raw SQL query and dumped with `json.dumps` (the brief asks for
the API to be within 2× of it).

`measure(user)` runs both in one process, on whatever database is configured
(the seeded one for `make bench`), and returns timings in milliseconds.
"""

from __future__ import annotations

import json
import statistics
import time
from typing import Any

from django.conf import settings
from django.db import connection
from rest_framework.test import APIClient

from accounts.models import User
from proposals.api import rows
from proposals.api.filters import settled
from proposals.selectors import proposals_visible_to

PAGE_SIZE = 500


def _host() -> str:
    hosts = [h for h in settings.ALLOWED_HOSTS if h not in {"*", ""} and not h.startswith(".")]
    return hosts[0] if hosts else "localhost"


def _api_page(client: APIClient) -> tuple[float, int, int]:
    started = time.perf_counter()
    response = client.get(
        "/api/v1/proposals/", {"page_size": PAGE_SIZE}, secure=True, SERVER_NAME=_host()
    )
    body = response.content
    elapsed = time.perf_counter() - started
    if response.status_code != 200:
        raise RuntimeError(f"API answered {response.status_code}: {body[:300]!r}")
    return elapsed, len(json.loads(body)["results"]), len(body)


def _raw_page(user: User) -> tuple[float, int, int]:
    """The floor: the API's own page query (same rows, same columns), compiled
    once, run on a raw cursor and dumped with `json.dumps`."""
    queryset = rows.proposal_values(settled(proposals_visible_to(user))).order_by(
        "updated_at", "id"
    )[:PAGE_SIZE]
    # On PostgreSQL this query carries the themes and collaborating departments
    # too, as the API's does; elsewhere the floor leaves them out (the API pays
    # two more queries), which flatters the floor.
    sql, params = queryset.query.sql_with_params()
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        columns = [c[0] for c in cursor.description]
        data = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    body = json.dumps(data, default=str).encode()
    elapsed = time.perf_counter() - started
    return elapsed, len(data), len(body)


def measure(user: User, repeat: int = 5) -> dict[str, Any]:
    """Median time of GET /api/v1/proposals/?page_size=500 (full stack:
    middleware, DRF, visibility, three queries, rendering) against the floor."""
    client = APIClient()
    client.force_authenticate(user)  # the token lookup is one indexed query; not measured
    _api_page(client)  # warm: connection, caches, imports
    _raw_page(user)
    api, raw = [], []
    for _ in range(repeat):
        elapsed, api_rows, api_bytes = _api_page(client)
        api.append(elapsed)
        elapsed, raw_rows, raw_bytes = _raw_page(user)
        raw.append(elapsed)
    api_ms = statistics.median(api) * 1000
    raw_ms = statistics.median(raw) * 1000
    return {
        "name": "API proposals list, page_size=500, vs raw SQL + json.dumps",
        "user": user.email,
        "rows": api_rows,
        "raw_rows": raw_rows,
        "api_ms": round(api_ms, 2),
        "raw_ms": round(raw_ms, 2),
        "ratio": round(api_ms / raw_ms, 2) if raw_ms else None,
        "api_bytes": api_bytes,
        "raw_bytes": raw_bytes,
    }
