"""The change feed, `GET /api/v1/changes/` (SPEC §6): every committed change to a
proposal or to what its detail shows, in commit order, exactly once, with no
settling lag.

Database triggers (migration 0006) log the proposal of every row written, with
the writing transaction's id on PostgreSQL (`ProposalChange`). The feed then
reads the log between two snapshots:

- On PostgreSQL a cursor holds the snapshot `S` up to which the caller has read
  (`pg_current_snapshot()`: every transaction below its `xmin` watermark has
  ended, those listed in it were still running). A read takes a new snapshot
  `T` and returns the log rows of transactions visible in `T` but not in `S`
  (`pg_visible_in_snapshot`), that is the ones that committed between the two
  reads, whenever they began. A transaction open for minutes holds nothing
  back: the ones that commit meanwhile come at once, and it comes in the first
  read after its own commit. A page that stops inside a batch keeps `S` and `T`
  and the position reached, so the rest of the batch is the same rows.
- On SQLite writes are serialised, so the log's AUTOINCREMENT id is already the
  commit order and the cursor is the last id read.

Who sees what is asked of `selectors.proposals_visible_to` for the page's
proposals, as the caller is now. A change to a proposal the caller may see is
`proposal.upserted` with its list row. A proposal that was deleted, merged away
or that the caller may no longer see is `proposal.removed`, but only for a
caller the feed once showed it to (`ChangeAudience`), so no one learns from the
feed of a proposal they could never see.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core import signing
from django.db import connection
from rest_framework import status
from rest_framework.exceptions import APIException, ValidationError

from proposals import selectors
from proposals.api import rows
from proposals.enums import Status
from proposals.models import ChangeAudience, ProposalChange

if TYPE_CHECKING:
    import datetime as dt
    import uuid

    from accounts.models import User

UPSERTED = "proposal.upserted"
REMOVED = "proposal.removed"
_SALT = "proposals.api.changes"
_BAD_CURSOR = "This cursor is not one the feed gave out: start again without a cursor"


@dataclass(frozen=True)
class Position:
    """Where a caller has read to.

    PostgreSQL: `done` is the snapshot every change visible in which has been
    read (None: nothing read yet); while inside a batch, `upto` is the batch's
    snapshot and `after` the (xid, id) of the last row read in it. SQLite: only
    `after_id`, the last log id read.
    """

    done: str | None = None
    upto: str | None = None
    after: tuple[int, int] | None = None
    after_id: int = 0
    # When the cursor was given out (Unix seconds); None in cursors from before.
    issued: int | None = None

    def encode(self) -> str:
        if settings.IS_POSTGRES:
            data: dict[str, Any] = {"d": self.done, "u": self.upto, "a": self.after}
        else:
            data = {"i": self.after_id}
        data["t"] = int(time.time())
        return signing.dumps(data, salt=_SALT, compress=True)

    @classmethod
    def decode(cls, cursor: str | None) -> Position:
        if not cursor:
            return cls()
        try:
            data = signing.loads(cursor, salt=_SALT)
            issued = int(data["t"]) if data.get("t") is not None else None
            if settings.IS_POSTGRES:
                after = data["a"]
                position = cls(
                    done=_snapshot(data["d"]),
                    upto=_snapshot(data["u"]),
                    after=(int(after[0]), int(after[1])) if after is not None else None,
                    issued=issued,
                )
            else:
                position = cls(after_id=int(data["i"]), issued=issued)
        except (signing.BadSignature, KeyError, TypeError, ValueError, IndexError):
            raise ValidationError({"cursor": [_BAD_CURSOR]}) from None
        position.refuse_if_expired()
        return position

    def refuse_if_expired(self) -> None:
        """A cursor older than the log keeps (less a day, for a transaction that was
        open when it was given out) may have missed rows the compaction deleted."""
        days = settings.API_CHANGES_RETENTION_DAYS
        if self.issued is not None and self.issued < time.time() - (days - 1) * 86400:
            raise CursorExpired(
                f"This cursor is more than {days - 1} days old, older than the feed keeps "
                "changes: clear your copy and start again without a cursor (you are sent "
                "every proposal you may see, then the changes)"
            )


class CursorExpired(APIException):
    status_code = status.HTTP_410_GONE
    default_detail = "This cursor is older than the feed keeps changes"
    default_code = "cursor_expired"


def _snapshot(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(value)
    return value


@dataclass
class _LogRow:
    id: int
    proposal_id: uuid.UUID
    reference: str
    xid: int | None
    created_at: dt.datetime
    position: Position


# --- reading the log ----------------------------------------------------------------------

_PG_BATCH = """
SELECT id, proposal_id, reference, xid, created_at
FROM proposals_proposalchange
WHERE xid >= %(floor)s
  AND (%(done)s::pg_snapshot IS NULL
       OR NOT pg_visible_in_snapshot(xid::text::xid8, %(done)s::pg_snapshot))
  AND pg_visible_in_snapshot(xid::text::xid8, %(upto)s::pg_snapshot)
  AND (xid, id) > (%(after_xid)s, %(after_id)s)
ORDER BY xid, id
LIMIT %(limit)s
"""


def _pg_batch(done: str | None, upto: str, after: tuple[int, int] | None, limit: int) -> list:
    """Log rows of transactions visible in `upto` and not in `done`, after `after`.

    `xid >= xmin(done)` lets the (xid, id) index skip everything `done` already
    covered: a transaction below a snapshot's xmin had ended when it was taken.
    """
    floor = 0
    if done is not None:
        floor = int(done.split(":", 1)[0])
    after_xid, after_id = after if after is not None else (-1, -1)
    with connection.cursor() as cursor:
        cursor.execute(
            _PG_BATCH,
            {
                "floor": floor,
                "done": done,
                "upto": upto,
                "after_xid": after_xid,
                "after_id": after_id,
                "limit": limit,
            },
        )
        found = cursor.fetchall()
    return [
        _LogRow(
            id=row[0],
            proposal_id=row[1],
            reference=row[2],
            xid=row[3],
            created_at=row[4],
            position=Position(done=done, upto=upto, after=(row[3], row[0])),
        )
        for row in found
    ]


def _current_snapshot() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_current_snapshot()::text")
        return str(cursor.fetchone()[0])


def _read_postgres(position: Position, limit: int) -> tuple[list[_LogRow], Position, bool]:
    found: list[_LogRow] = []
    done = position.done
    if position.upto is not None:
        # Finish the batch the last page stopped in, with the same two snapshots.
        found = _pg_batch(done, position.upto, position.after, limit + 1)
        if len(found) > limit:
            found = found[:limit]
            return found, found[-1].position, True
        done = position.upto
    upto = _current_snapshot()
    more = _pg_batch(done, upto, None, limit - len(found) + 1)
    if len(more) > limit - len(found):
        found += more[: limit - len(found)]
        return found, found[-1].position, True
    return found + more, Position(done=upto), False


def _read_sqlite(position: Position, limit: int) -> tuple[list[_LogRow], Position, bool]:
    found = [
        _LogRow(
            id=row["id"],
            proposal_id=row["proposal_id"],
            reference=row["reference"],
            xid=None,
            created_at=row["created_at"],
            position=Position(after_id=row["id"]),
        )
        for row in ProposalChange.objects.filter(id__gt=position.after_id)
        .order_by("id")
        .values("id", "proposal_id", "reference", "created_at")[: limit + 1]
    ]
    more = len(found) > limit
    found = found[:limit]
    # Consecutive rows for one proposal are one transaction's (writes are serialised).
    compacted = [
        row
        for index, row in enumerate(found)
        if index + 1 == len(found) or found[index + 1].proposal_id != row.proposal_id
    ]
    last = Position(after_id=found[-1].id) if found else position
    return compacted, last, more


# --- what the caller is told ---------------------------------------------------------------


def read(user: User, cursor: str | None, limit: int) -> dict[str, Any]:
    """One page of the feed for `user`: `{"next_cursor", "has_more", "results"}`.

    A fixed number of queries whatever the page size: the snapshot, the log
    (twice when finishing a batch), the visible proposals' rows, and the
    audience read and written.
    """
    position = Position.decode(cursor)
    if settings.IS_POSTGRES:
        log, last, has_more = _read_postgres(position, limit)
    else:
        log, last, has_more = _read_sqlite(position, limit)

    ids = list(dict.fromkeys(row.proposal_id for row in log))
    visible = {
        row["id"]: row
        for row in rows.proposal_rows(selectors.proposals_visible_to(user).filter(pk__in=ids))
    }
    gone = [
        pk for pk in ids if str(pk) not in visible or visible[str(pk)]["status"] == Status.MERGED
    ]
    known: set[Any] = set()
    if gone:
        known = set(
            ChangeAudience.objects.filter(user=user, proposal_id__in=gone).values_list(
                "proposal_id", flat=True
            )
        )
    if visible:
        ChangeAudience.objects.bulk_create(
            [ChangeAudience(user=user, proposal_id=pk) for pk in ids if str(pk) in visible],
            ignore_conflicts=True,
        )

    results = []
    for row in log:
        data = visible.get(str(row.proposal_id))
        if data is not None and data["status"] != Status.MERGED:
            results.append(_event(row, UPSERTED, data["reference"], data))
        elif data is not None or row.proposal_id in known:
            reference = data["reference"] if data is not None else row.reference
            results.append(_event(row, REMOVED, reference, None))
    return {"next_cursor": last.encode(), "has_more": has_more, "results": results}


def _event(row: _LogRow, kind: str, reference: str, data: dict[str, Any] | None) -> dict:
    return {
        "cursor": row.position.encode(),
        "type": kind,
        "reference": reference,
        "id": str(row.proposal_id),
        "occurred_at": rows.iso(row.created_at),
        "data": data,
    }
