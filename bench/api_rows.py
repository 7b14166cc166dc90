"""The API's proposals list against its floor: the same page of rows fetched with
one raw SQL query and dumped with orjson.

Ours is GET /api/v1/proposals/?page_size=500 through the whole stack (every
middleware, session authentication from a signed-in session cookie, DRF,
visibility, rendering). The floor runs the API's page query — one query that
already carries the themes and departments on PostgreSQL — on a raw cursor and
renders it with orjson, the least work that returns the same rows. Both return
their ids, and the row fails if they differ.

`measure(user)` runs both in one process, on whatever database is configured
(the seeded one for `make bench`), and returns timings in milliseconds.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import connection
from django.test import Client

from accounts.models import User
from proposals.api import rows
from proposals.api.filters import settled
from proposals.selectors import proposals_visible_to

PAGE_SIZE = 500

try:
    import orjson

    def _dumps(data: Any) -> bytes:
        return orjson.dumps(data)

    RENDERER = "orjson"
except ImportError:  # `make install` brings it; a bare checkout falls back, and says so

    def _dumps(data: Any) -> bytes:
        return json.dumps(data, default=str).encode()

    RENDERER = "json.dumps (orjson not installed)"


def _host() -> str:
    hosts = [h for h in settings.ALLOWED_HOSTS if h not in {"*", ""} and not h.startswith(".")]
    return hosts[0] if hosts else "localhost"


def signed_in(user: User) -> Client:
    """A Client with a real session for `user` (saved in the database): the API
    authenticates it as it would a browser's."""
    from bench.core import signed_in_session

    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = signed_in_session(user)
    return client


def api_page(client: Client) -> bytes:
    """One request: the page's body, as a client receives it (the timed part: the
    floor does not parse its JSON either)."""
    response = client.get(
        "/api/v1/proposals/", {"page_size": PAGE_SIZE}, secure=True, SERVER_NAME=_host()
    )
    body = response.content
    if response.status_code != 200:
        raise RuntimeError(f"API answered {response.status_code}: {body[:300]!r}")
    return body


def ids_of(body: bytes) -> list[Any]:
    """The ids of a page, in order (the reference is the API's id)."""
    return [item["reference"] for item in json.loads(body)["results"]]


def api_ids(client: Client) -> list[Any]:
    return ids_of(api_page(client))


def _page_sql(user: User) -> tuple[str, Any]:
    queryset = rows.proposal_values(settled(proposals_visible_to(user))).order_by(
        "updated_at", "id"
    )[:PAGE_SIZE]
    return queryset.query.sql_with_params()


def raw_page(user: User) -> Callable[[], tuple[list[Any], bytes]]:
    """The floor: the API's own page query (same rows, same columns), compiled once,
    run on a raw cursor and rendered with orjson. Returns the references and body."""
    sql, params = _page_sql(user)

    def floor() -> tuple[list[Any], bytes]:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            columns = [c[0] for c in cursor.description]
            data = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
        body = _dumps({"results": data})
        return [row["reference"] for row in data], body

    return floor


def same_ids(ours: list[Any] | bytes, floor: tuple[list[Any], bytes]) -> str | None:
    """None if both gave the same rows in the same order; else how they differ.
    `ours` is the API's body (decoded here, after the timing) or its ids."""
    if isinstance(ours, bytes):
        ours = ids_of(ours)
    theirs = floor[0]
    if ours == theirs:
        return None
    if set(ours) == set(theirs):
        return "the same rows in another order"
    only_api, only_floor = len(set(ours) - set(theirs)), len(set(theirs) - set(ours))
    return f"{only_api} only in the API, {only_floor} only in the floor"


def _timed(function: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = function()
    return time.perf_counter() - started, result


def measure(user: User, repeat: int = 5) -> dict[str, Any]:
    """Median time of GET /api/v1/proposals/?page_size=500 (full stack, signed-in
    session) against the floor, interleaved run by run."""
    client = signed_in(user)
    floor = raw_page(user)
    api_ids(client)  # warm: connection, caches, imports
    floor()
    api, raw = [], []
    for _ in range(repeat):
        elapsed, body = _timed(lambda: api_page(client))
        ids = ids_of(body)
        api.append(elapsed)
        elapsed, (raw_ids, _) = _timed(floor)
        raw.append(elapsed)
    api_ms = statistics.median(api) * 1000
    raw_ms = statistics.median(raw) * 1000
    return {
        "name": f"API proposals list, page_size=500, vs raw SQL + {RENDERER}",
        "user": user.email,
        "rows": len(ids),
        "raw_rows": len(raw_ids),
        "differs": same_ids(ids, (raw_ids, b"")),
        "api_ms": round(api_ms, 2),
        "raw_ms": round(raw_ms, 2),
        "ratio": round(api_ms / raw_ms, 2) if raw_ms else None,
    }
