"""Keyset ("cursor") pagination on (`updated_at`, `id`), for incremental sync.

DRF's own CursorPagination keeps a position on the first ordering field plus an
offset, so rows that change while a client pages can shift the offset and be
skipped. Here the cursor is the (updated_at, id) of the last row seen, and the
next page is every row strictly after it: a row updated meanwhile moves to
the end of the feed, where the client meets it again, and nothing is skipped.

A search (`search`, without `updated_after`) is listed best match first
instead, the order of Find proposals: `RankedPagination` pages it with the same
links and shape, its cursor an offset into the ranked rows (a ranking has no
stable key to walk; a search is read, not synced).

Kept in its own module because settings import it (importing views here would
make a circular import).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils.dateparse import parse_datetime
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import BasePagination
from rest_framework.request import Request
from rest_framework.response import Response

DEFAULT_PAGE_SIZE = 100


@dataclass(frozen=True)
class Position:
    forward: bool
    updated_at: dt.datetime
    id: str


def encode_cursor(position: Position) -> str:
    raw = json.dumps(
        {
            "d": "n" if position.forward else "p",
            "t": position.updated_at.isoformat(),
            "i": position.id,
        },
        separators=(",", ":"),
    )
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(value: str) -> Position:
    invalid = ValidationError(
        {"cursor": ["This cursor is not valid: use the next or previous link"]}
    )
    if len(value) > 500:
        raise invalid
    try:
        raw = json.loads(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)))
        direction, stamp, ident = raw["d"], raw["t"], raw["i"]
        updated_at = parse_datetime(stamp) if isinstance(stamp, str) else None
    except (binascii.Error, ValueError, TypeError, KeyError, UnicodeDecodeError):
        raise invalid from None
    if direction not in {"n", "p"} or updated_at is None or updated_at.tzinfo is None:
        raise invalid
    if not isinstance(ident, str | int) or len(str(ident)) > 64:
        raise invalid
    return Position(forward=direction == "n", updated_at=updated_at, id=str(ident))


def parse_page_size(request: Request) -> int:
    """`page_size` from 1 to API_MAX_PAGE_SIZE; anything else is a 400 (documented)."""
    raw = request.query_params.get("page_size")
    if raw is None or raw == "":
        return DEFAULT_PAGE_SIZE
    maximum = settings.API_MAX_PAGE_SIZE
    try:
        size = int(raw)
    except ValueError:
        size = 0
    if not 1 <= size <= maximum:
        raise ValidationError({"page_size": [f"Enter a whole number from 1 to {maximum}"]})
    return size


class UpdatedAtCursorPagination(BasePagination):
    """Pages of a queryset ordered by (updated_at, id), walked by keyset cursors.

    `paginate_queryset` takes a queryset (of models or of `.values()` dicts, with
    `updated_at` and `id` available) and returns the page's rows.
    """

    cursor_query_param = "cursor"
    page_size_query_param = "page_size"

    def __init__(self) -> None:
        self.request: Request | None = None
        self.next_position: Position | None = None
        self.previous_position: Position | None = None

    def paginate_queryset(
        self, queryset: QuerySet[Any], request: Request, view: Any = None
    ) -> list[Any]:
        self.request = request
        size = parse_page_size(request)
        raw_cursor = request.query_params.get(self.cursor_query_param)
        position = decode_cursor(raw_cursor) if raw_cursor else None
        id_field = _id_field(queryset)
        if position is not None:
            try:
                key = _coerce_id(position.id, id_field)
            except (ValueError, AttributeError):
                raise ValidationError({"cursor": ["This cursor is not valid"]}) from None
            after = Q(updated_at__gt=position.updated_at) | Q(
                updated_at=position.updated_at, id__gt=key
            )
            before = Q(updated_at__lt=position.updated_at) | Q(
                updated_at=position.updated_at, id__lt=key
            )
            queryset = queryset.filter(after if position.forward else before)
        forward = position is None or position.forward
        ordering = ("updated_at", "id") if forward else ("-updated_at", "-id")
        rows = list(queryset.order_by(*ordering)[: size + 1])
        more = len(rows) > size
        rows = rows[:size]
        if not forward:
            rows.reverse()
        self.next_position = self.previous_position = None
        if rows:
            first, last = _key(rows[0]), _key(rows[-1])
            if (forward and more) or not forward:
                self.next_position = Position(True, *last)
            if (not forward and more) or (forward and position is not None):
                self.previous_position = Position(False, *first)
        elif position is not None and position.forward:
            # Past the end: nothing newer yet. `previous` walks back from here.
            self.previous_position = Position(False, position.updated_at, position.id)
        return rows

    def _link(self, position: Position | None) -> str | None:
        if position is None or self.request is None:
            return None
        params = self.request.query_params.copy()
        params[self.cursor_query_param] = encode_cursor(position)
        return (
            self.request.build_absolute_uri(self.request.path)
            + "?"
            + urlencode(sorted(params.lists()), doseq=True)
        )

    def get_next_link(self) -> str | None:
        return self._link(self.next_position)

    def get_previous_link(self) -> str | None:
        return self._link(self.previous_position)

    def get_paginated_response_data(self, results: Sequence[Any]) -> dict[str, Any]:
        return {
            "next": self.get_next_link(),
            "previous": self.get_previous_link(),
            "results": results,
        }

    def get_paginated_response(self, data: Any) -> Any:
        return Response(self.get_paginated_response_data(data))

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": "object",
            "required": ["next", "previous", "results"],
            "properties": {
                "next": {"type": "string", "nullable": True, "format": "uri"},
                "previous": {"type": "string", "nullable": True, "format": "uri"},
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        return [
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": "Opaque position from a `next` or `previous` link.",
                "schema": {"type": "string", "maxLength": 500},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": (
                    f"Rows per page, 1 to {settings.API_MAX_PAGE_SIZE} (default "
                    f"{DEFAULT_PAGE_SIZE}); above the maximum is a 400."
                ),
                "schema": {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": settings.API_MAX_PAGE_SIZE,
                },
            },
        ]


def _id_field(queryset: QuerySet[Any]) -> Any:
    return queryset.model._meta.pk


def _coerce_id(value: str, field: Any) -> Any:
    if field.get_internal_type() == "UUIDField":
        return uuid.UUID(value)
    return int(value)


def _key(row: Any) -> tuple[dt.datetime, str]:
    if isinstance(row, dict):
        return row["updated_at"], str(row["id"])
    return row.updated_at, str(row.pk)


class RankedPagination(UpdatedAtCursorPagination):
    """Pages of a queryset already ordered best match first (`search_proposals`),
    with the same `next`/`previous` links, cursor parameter and page size as the
    feed's; the cursor holds the offset of the page."""

    def __init__(self) -> None:
        super().__init__()
        self.next_offset: int | None = None
        self.previous_offset: int | None = None

    def paginate_queryset(
        self, queryset: QuerySet[Any], request: Request, view: Any = None
    ) -> list[Any]:
        self.request = request
        size = parse_page_size(request)
        raw_cursor = request.query_params.get(self.cursor_query_param)
        offset = decode_offset(raw_cursor) if raw_cursor else 0
        rows = list(queryset[offset : offset + size + 1])
        more = len(rows) > size
        self.next_offset = offset + size if more else None
        self.previous_offset = max(offset - size, 0) if offset > 0 else None
        return rows[:size]

    def get_next_link(self) -> str | None:
        return self._offset_link(self.next_offset)

    def get_previous_link(self) -> str | None:
        return self._offset_link(self.previous_offset)

    def _offset_link(self, offset: int | None) -> str | None:
        if offset is None or self.request is None:
            return None
        params = self.request.query_params.copy()
        params[self.cursor_query_param] = encode_offset(offset)
        return (
            self.request.build_absolute_uri(self.request.path)
            + "?"
            + urlencode(sorted(params.lists()), doseq=True)
        )


# Past this many rows a search asks for more words, as Find proposals' count does.
RANKED_OFFSET_MAX = 10_000


def encode_offset(offset: int) -> str:
    raw = json.dumps({"o": offset}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_offset(value: str) -> int:
    invalid = ValidationError(
        {"cursor": ["This cursor is not valid: use the next or previous link"]}
    )
    if len(value) > 500:
        raise invalid
    try:
        offset = json.loads(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)))["o"]
    except (binascii.Error, ValueError, TypeError, KeyError, UnicodeDecodeError):
        raise invalid from None
    if type(offset) is not int or not 0 <= offset <= RANKED_OFFSET_MAX:
        raise invalid
    return offset
