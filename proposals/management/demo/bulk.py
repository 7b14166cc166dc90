"""How `seed_demo` writes: rows buffered per model, then COPY (PostgreSQL) or executemany.

Into an empty PostgreSQL database the rows go through `FreshLoad`: a bulk load
that builds the indexes, checks the foreign keys and computes the derived data
(search vectors, support counts, the change feed) in bulk, instead of row by
row, and writes each chunk while a child process makes the next.
"""

# Every name in this SQL is the models' or the catalog's: nothing comes from input.
# ruff: noqa: S608

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import multiprocessing
import operator
import time
import traceback
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from types import TracebackType
from typing import Any, TypeVar, cast

import orjson
from django.db import DEFAULT_DB_ALIAS, connection, connections, models
from django.db.backends.base.base import BaseDatabaseWrapper
from psycopg import Copy
from psycopg.copy import FileWriter
from psycopg.types.json import Jsonb

from proposals.models import (
    Adoption,
    Assessment,
    Assignment,
    AuditEvent,
    BenefitReview,
    Comment,
    Decision,
    EvaluationPlan,
    Experiment,
    Metric,
    MetricActual,
    Outcome,
    Proposal,
    ProposalChange,
    Score,
    Support,
)

Rows = dict[type[models.Model], list[dict[str, Any]]]
T = TypeVar("T")


class BulkWriter:
    """Buffers rows per model and writes them with COPY (PostgreSQL) or executemany."""

    AUTO_ID_MODELS: Sequence[type[models.Model]] = (
        Assessment,
        Experiment,
        Metric,
        Outcome,
        EvaluationPlan,
        BenefitReview,
        Adoption,
    )
    # Parents before children, so foreign keys hold at every step.
    ORDER: Sequence[type[models.Model]] = (
        Proposal,
        Proposal.themes.through,
        AuditEvent,
        Decision,
        Assignment,
        Assessment,
        Score,
        Experiment,
        EvaluationPlan,
        Metric,
        Outcome,
        BenefitReview,
        MetricActual,
        Adoption,
        Comment,
        Support,
    )

    def __init__(self, ids: dict[type[models.Model], int]) -> None:
        self.rows: Rows = defaultdict(list)
        # The last id given per model (`last_ids()`); shared between chunks, which
        # are made without a query (perhaps in another process).
        self.ids = ids

    @classmethod
    def last_ids(cls) -> dict[type[models.Model], int]:
        """The last id of each model given its ids here, read once before the rows are made."""
        return {
            model: model._default_manager.aggregate(m=models.Max("id"))["m"] or 0
            for model in cls.AUTO_ID_MODELS
        }

    def next_id(self, model: type[models.Model]) -> int:
        self.ids[model] += 1
        return self.ids[model]

    def add(self, model: type[models.Model], **values: Any) -> dict[str, Any]:
        """Buffer a row; the row is returned so that a later step may still change it."""
        self.rows[model].append(values)
        return values

    def take(self) -> Rows:
        """The buffered rows, handed over (the writer starts empty again)."""
        rows, self.rows = self.rows, defaultdict(list)
        return rows

    @classmethod
    def write(cls, rows: Rows) -> None:
        """Write a chunk's rows, parents first."""
        for model in cls.ORDER:
            if rows.get(model):
                cls._write(model, rows[model])

    @staticmethod
    def _write(model: type[models.Model], rows: Iterable[dict[str, Any]]) -> None:
        rows = list(rows)
        fields = [f for f in model._meta.concrete_fields if f.attname in rows[0]]
        table = connection.ops.quote_name(model._meta.db_table)
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # The raw psycopg cursor's errors, as Django's (IntegrityError…).
                with connection.wrap_database_errors:
                    copy_rows(cursor.cursor, connection, table, fields, rows)
            else:
                columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
                placeholders = ", ".join(["%s"] * len(fields))
                cursor.executemany(
                    f"INSERT INTO {table} ({columns}) VALUES ({placeholders})",
                    [[adapt(f, row[f.attname]) for f in fields] for row in rows],
                )


def copy_rows(
    cursor: Any,
    db: BaseDatabaseWrapper,
    table: str,
    fields: Sequence[models.Field],
    rows: Iterable[dict[str, Any]],
    *,
    binary: bool = False,
) -> None:
    """COPY the rows' values of these fields into the table (a psycopg cursor).

    `binary`: in PostgreSQL's binary format, which it reads without parsing
    text (timestamps, ids, JSON), typed by the fields' column types.
    """
    columns = ", ".join(db.ops.quote_name(f.column) for f in fields)
    form = " (FORMAT BINARY)" if binary else ""
    with cursor.copy(f"COPY {table} ({columns}) FROM STDIN{form}") as copy:
        if binary:
            copy.set_types([_copy_type(f, db) for f in fields])
        _write_rows(copy, fields, rows)


def copy_data(
    cursor: Any, db: BaseDatabaseWrapper, fields: Sequence[models.Field], rows: Iterable[Any]
) -> bytes:
    """The rows as COPY's binary data, made without the server: what `copy_rows`
    would send, for a COPY elsewhere (psycopg's `FileWriter`; `cursor` is only read
    for its adapters)."""
    data = io.BytesIO()
    with Copy(cursor, binary=True, writer=FileWriter(data)) as copy:
        copy.set_types([_copy_type(f, db) for f in fields])
        _write_rows(copy, fields, rows)
    return data.getvalue()


def _write_rows(copy: Any, fields: Sequence[models.Field], rows: Iterable[dict[str, Any]]) -> None:
    names = [f.attname for f in fields]
    json_fields = {f.attname for f in fields if isinstance(f, models.JSONField)}
    write = copy.write_row
    if len(names) < 2:
        for row in rows:
            write([Jsonb(row[n], _json_dumps) if n in json_fields else row[n] for n in names])
    elif json_fields:
        values = operator.itemgetter(*names)
        positions = [i for i, n in enumerate(names) if n in json_fields]
        for row in rows:
            value = list(values(row))
            for i in positions:
                value[i] = Jsonb(value[i], _json_dumps)
            write(value)
    else:
        values = operator.itemgetter(*names)  # a tuple per row, in C: rows are many
        for row in rows:
            write(values(row))


def _json_dumps(value: Any) -> bytes:
    """The JSON to COPY, by orjson rather than `json.dumps` (the audit log's
    `changes` are four a proposal); jsonb is stored parsed, so the text's spacing
    is no matter."""
    return orjson.dumps(value)


def _copy_type(field: models.Field, db: BaseDatabaseWrapper) -> str:
    """The column's type as psycopg names it: `varchar(32)` is `varchar`."""
    return str(field.db_type(db)).split("(")[0].strip()


def adapt(field: models.Field, value: Any) -> Any:
    """What Django would store on SQLite for this value."""
    if value is None:
        return None
    if isinstance(field, models.JSONField):
        return json.dumps(value)
    if isinstance(value, uuid.UUID):
        return value.hex
    if isinstance(value, dt.datetime):
        return connection.ops.adapt_datetimefield_value(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


# --- the fresh load (PostgreSQL, no proposals yet) ----------------------------------------


class FreshLoad:
    """Loads `BulkWriter` chunks into an empty PostgreSQL database as a bulk load.

    Use as a context manager inside the seed's transaction, only when `applies()`:

    - the secondary indexes, unique constraints and foreign keys of the loaded
      tables are dropped, as `pg_indexes`/`pg_constraint` define them, and made
      again from those same definitions at the end (one sort per index and one
      join per foreign key, instead of 12.8 million index insertions and
      deferred checks);
    - the triggers whose work it does in bulk are off meanwhile (`TRIGGERS`),
      every other trigger stays on;
    - the chunks are made in a process of its own (`load`), as COPY's data,
      while this one writes the previous chunk: two cores, and no lock shared
      between making and writing; each
      chunk's proposals go through a temporary table, so their search vector
      (`proposals_search_document`, migration 0017: the trigger's own function)
      and support count (of the chunk's supports: a proposal's supports are in
      its chunk) are written with the row, never updated after;
    - the change feed gets its one row per proposal, with its chunk, as the
      feed's insert triggers would have written in this transaction.

    DDL is transactional: if anything fails the seed's transaction is rolled
    back and the schema is as it was. Meanwhile the loaded tables are locked.
    """

    # The triggers this load does the work of, by table ("*": every loaded
    # table): the search vector (0002), the support count (0009), the change
    # feed's insert triggers (0006), and experiments' and outcomes'
    # `government_wide` (0024: the load writes it by the same rule).
    TRIGGERS: dict[str, tuple[str, ...]] = {
        "*": ("feed_ins",),
        Proposal._meta.db_table: ("proposals_proposal_search",),
        Support._meta.db_table: ("proposals_support_count",),
        Experiment._meta.db_table: ("proposals_experiment_wide",),
        Outcome._meta.db_table: ("proposals_outcome_wide",),
    }
    # For the index builds at the end: PostgreSQL sorts in memory up to this.
    MAINTENANCE_WORK_MEM = "1GB"
    WORK_MEM = "64MB"
    # `proposals_search_document` (0017) term by term: each text's weight, in its
    # order. The seed's texts repeat (an idea's summary is many proposals'), so
    # each distinct text is parsed once (`SEARCH_MEMO`) and the vectors are
    # concatenated as the function does: the same vector, a tenth of the parsing.
    # The fresh-load test compares every vector with the function's.
    SEARCH_WEIGHTS: tuple[tuple[str, str], ...] = (
        ("reference", "A"),
        ("title", "A"),
        ("summary", "B"),
        ("problem", "C"),
        ("who_has_the_problem", "D"),
        ("proposed_solution", "C"),
        ("expected_benefits", "D"),
    )
    # Unique to each proposal, so parsed directly rather than remembered.
    SEARCH_UNIQUE = frozenset({"reference"})
    SEARCH_MEMO = "seed_search_memo"
    # Proposals' columns the load computes (`_stage_proposals`), never sent.
    DERIVED = frozenset({"search_vector", "support_count"})

    def __init__(self) -> None:
        self.db: BaseDatabaseWrapper = connections[DEFAULT_DB_ALIAS]
        self.tables = [model._meta.db_table for model in BulkWriter.ORDER]
        self.indexes: list[tuple[str, str, str]] = []  # table, name, CREATE INDEX …
        self.constraints: list[tuple[str, str, str]] = []  # table, name, definition
        self.triggers: list[tuple[str, str]] = []  # table, name
        self.raw: Any = None
        # Seconds per step (`seed_demo -v 2` prints them): the maker's are its own
        # process's, so they overlap the writer's.
        self.timings: dict[str, float] = defaultdict(float)

    @staticmethod
    def applies() -> bool:
        return connection.vendor == "postgresql" and not Proposal.objects.exists()

    def __enter__(self) -> FreshLoad:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exc is None:
            self.finish()

    # --- before ----------------------------------------------------------------------

    def start(self) -> None:
        quote = self.db.ops.quote_name
        with self._timed("drop indexes, constraints and triggers"), self.db.cursor() as cursor:
            cursor.execute(f"SET LOCAL maintenance_work_mem = '{self.MAINTENANCE_WORK_MEM}'")
            # Each chunk's joins (its texts' vectors, its supports) in memory.
            cursor.execute(f"SET LOCAL work_mem = '{self.WORK_MEM}'")
            # Foreign keys first: a unique index may be what one of them refers to.
            cursor.execute(
                """SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid)
                FROM pg_constraint c
                WHERE c.contype = 'f' AND c.conrelid = ANY(%s::regclass[])
                ORDER BY 1, 2""",
                [self.tables],
            )
            foreign_keys = cursor.fetchall()
            # Unique constraints that no foreign key left in place refers to.
            cursor.execute(
                """SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid)
                FROM pg_constraint c
                WHERE c.contype = 'u' AND c.conrelid = ANY(%s::regclass[])
                  AND NOT EXISTS (
                    SELECT 1 FROM pg_constraint f WHERE f.contype = 'f'
                      AND f.conindid = c.conindid AND NOT f.conrelid = ANY(%s::regclass[]))
                ORDER BY 1, 2""",
                [self.tables, self.tables],
            )
            unique = cursor.fetchall()
            # Every other index but those of constraints (the primary keys stay).
            cursor.execute(
                """SELECT i.tablename, i.indexname, i.indexdef FROM pg_indexes i
                WHERE i.schemaname = current_schema() AND i.tablename = ANY(%s)
                  AND NOT EXISTS (
                    SELECT 1 FROM pg_constraint c
                    WHERE c.conindid = format('%%I.%%I', i.schemaname, i.indexname)::regclass
                      AND c.contype IN ('p', 'u', 'x'))
                ORDER BY 1, 2""",
                [self.tables],
            )
            self.indexes = cursor.fetchall()
            self.constraints = [*unique, *foreign_keys]  # made again in this order
            cursor.execute(
                """SELECT t.tgrelid::regclass::text, t.tgname FROM pg_trigger t
                WHERE NOT t.tgisinternal AND t.tgenabled <> 'D'
                  AND t.tgrelid = ANY(%s::regclass[]) ORDER BY 1, 2""",
                [self.tables],
            )
            self.triggers = [
                (table, name)
                for table, name in cursor.fetchall()
                if name in self.TRIGGERS["*"] or name in self.TRIGGERS.get(table, ())
            ]
            with _checked_now(cursor):
                for table, name, _ in foreign_keys + unique:
                    cursor.execute(f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(name)}")
                for _, name, _ in self.indexes:
                    cursor.execute(f"DROP INDEX {quote(name)}")
                for table, name in self.triggers:
                    cursor.execute(f"ALTER TABLE {quote(table)} DISABLE TRIGGER {quote(name)}")
            # Where each chunk's proposals and supports wait for their derived columns.
            for model in (Proposal, Support):
                cursor.execute(
                    f"CREATE TEMPORARY TABLE {quote(self._stage(model))} ON COMMIT DROP "
                    f"AS SELECT * FROM {quote(model._meta.db_table)} WITH NO DATA"
                )
            cursor.execute(
                f"CREATE TEMPORARY TABLE {quote(self.SEARCH_MEMO)} "
                "(body text NOT NULL, vector tsvector NOT NULL) ON COMMIT DROP"
            )
        self.raw = self.db.connection  # psycopg's own, for COPY

    # --- during ----------------------------------------------------------------------

    def load(
        self,
        chunks: Iterator[tuple[Rows, int]],
        outcome: Callable[[], T],
        progress: Callable[[int], None],
    ) -> T:
        """Write the chunks, made in a child process, and return its `outcome()`.

        `chunks` gives each chunk's rows and how many proposals are made so far
        (`progress` is told as each is written); it must make no query, since the
        child shares this process's connection to the server (`_make` refuses any).
        `outcome()` is what the making left that the seed still needs (pickled).
        Where processes cannot be forked, the chunks are made here, in turn.
        """
        if "fork" not in multiprocessing.get_all_start_methods():
            with self.raw.cursor() as cursor:
                for rows, made in chunks:
                    self._write_chunk(cursor, self._encode(cursor, rows))
                    progress(made)
            return outcome()
        # Forked, not spawned: the child has the chunks' state as it is here, and no
        # Django to set up again.
        fork = multiprocessing.get_context("fork")
        receiver, sender = fork.Pipe(duplex=False)
        maker = fork.Process(
            target=self._make, args=(chunks, outcome, sender), name="seed-maker", daemon=True
        )
        maker.start()
        sender.close()  # the child's end: so that its death is an end of file here
        try:
            with self.raw.cursor() as cursor:
                while True:
                    with self._timed("writer waiting for the maker"):
                        message = self._receive(receiver, maker)
                    match message:
                        case ("chunk", tables, made):
                            self._write_chunk(cursor, tables)
                            progress(made)
                        case ("done", result, timings):
                            for step, seconds in timings.items():
                                self.timings[f"maker: {step}"] += seconds
                            return cast(T, result)
                        case ("failed", error, _):
                            raise RuntimeError(f"seed_demo could not make the demo data:\n{error}")
        finally:
            receiver.close()  # a maker still sending stops there (a broken pipe)
            maker.join(timeout=5)
            if maker.is_alive():
                maker.kill()
                maker.join()

    @staticmethod
    def _receive(receiver: Any, maker: multiprocessing.process.BaseProcess) -> Any:
        try:
            return receiver.recv()
        except EOFError:
            maker.join()
            raise RuntimeError(
                f"seed_demo could not make the demo data: its maker ended ({maker.exitcode})"
            ) from None

    def _make(
        self, chunks: Iterator[tuple[Rows, int]], outcome: Callable[[], Any], sender: Any
    ) -> None:
        """In the child: each chunk as COPY's data, sent to the writer."""
        timings: dict[str, float] = defaultdict(float)
        try:
            # The connection is the parent's, mid-transaction: a query here would be
            # sent on its socket, into the parent's session.
            with self.db.execute_wrapper(_no_queries), self.raw.cursor() as cursor:
                while True:
                    started = time.monotonic()
                    item = next(chunks, None)
                    timings["make"] += time.monotonic() - started
                    if item is None:
                        break
                    rows, made = item
                    started = time.monotonic()
                    tables = self._encode(cursor, rows)
                    timings["encode"] += time.monotonic() - started
                    sender.send(("chunk", tables, made))
                sender.send(("done", outcome(), dict(timings)))
        except BrokenPipeError:
            pass  # the writer failed and stopped listening: it says why
        except BaseException:  # sent to the writer, raised there
            with contextlib.suppress(BrokenPipeError):
                sender.send(("failed", traceback.format_exc(), None))
        finally:
            sender.close()

    def _encode(self, cursor: Any, rows: Rows) -> list[_Table]:
        """A chunk's rows as COPY's data, table by table, parents first."""
        tables = []
        for model in BulkWriter.ORDER:
            if not rows.get(model):
                continue
            fields = self._fields(model, rows[model][0])
            if model is Proposal:  # derived in the database (`_stage_proposals`)
                fields = [f for f in fields if f.attname not in self.DERIVED]
            data = copy_data(cursor, self.db, fields, rows[model])
            tables.append(_Table(model._meta.db_table, [f.column for f in fields], data))
        return tables

    def _write_chunk(self, cursor: Any, tables: list[_Table]) -> None:
        with self.db.wrap_database_errors:  # the raw cursor's errors, as Django's
            by_name = {table.name: table for table in tables}
            # The supports first: their proposals' counts are made of them.
            if (supports := by_name.pop(Support._meta.db_table, None)) is not None:
                with self._timed("writer: supports (staged)"):
                    self._stage_supports(cursor, supports)
            if (proposals := by_name.pop(Proposal._meta.db_table, None)) is not None:
                with self._timed("writer: proposals (staged, with search vectors)"):
                    self._stage_proposals(cursor, proposals)
            quote = self.db.ops.quote_name
            cursor.execute(
                f"TRUNCATE {quote(self._stage(Proposal))}, {quote(self._stage(Support))}"
            )
            for table in by_name.values():
                with self._timed(f"writer: {table.name}"):
                    self._copy(cursor, quote(table.name), table)

    def _copy(self, cursor: Any, target: str, table: _Table) -> list[str]:
        """COPY the table's data into `target`; returns the columns written, quoted."""
        columns = [self.db.ops.quote_name(c) for c in table.columns]
        statement = f"COPY {target} ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)"
        with cursor.copy(statement) as copy:
            copy.write(table.data)
        return columns

    def _stage_supports(self, cursor: Any, supports: _Table) -> None:
        """The chunk's supports, kept in the stage too for their proposals' counts."""
        quote = self.db.ops.quote_name
        stage = quote(self._stage(Support))
        columns = ", ".join(self._copy(cursor, stage, supports))
        cursor.execute(
            f"INSERT INTO {quote(Support._meta.db_table)} ({columns}) SELECT {columns} FROM {stage}"
        )

    def _stage_proposals(self, cursor: Any, proposals: _Table) -> None:
        """The chunk's proposals with their search vector and support count, written once."""
        quote = self.db.ops.quote_name
        stage = quote(self._stage(Proposal))
        written = self._copy(cursor, stage, proposals)
        columns = ", ".join(written)
        values = ", ".join(f"p.{c}" for c in written)
        memo = quote(self.SEARCH_MEMO)
        remembered = [c for c, _ in self.SEARCH_WEIGHTS if c not in self.SEARCH_UNIQUE]
        # The chunk's texts not parsed before. (Keyed by the text alone: keyed by its
        # weight too, the planner expected a row per join, and nested its loops.)
        # The stage's size, for the plan; its columns' statistics (long texts,
        # sampled and sorted: half a second a chunk) would not change it.
        cursor.execute(f"ANALYZE {stage} (id)")
        texts = " UNION ".join(f"SELECT {quote(c)} FROM {stage}" for c in remembered)
        cursor.execute(
            f"""INSERT INTO {memo} (body, vector)
            SELECT t.body, to_tsvector('english', t.body) FROM ({texts}) AS t(body)
            WHERE NOT EXISTS (SELECT 1 FROM {memo} m WHERE m.body = t.body)"""
        )
        cursor.execute(f"ANALYZE {memo}")  # so that each text is found by a hash join
        vector = " || ".join(
            f"setweight(to_tsvector('english', p.{quote(c)}), '{w}')"
            if c in self.SEARCH_UNIQUE
            else f"setweight(m_{c}.vector, '{w}')"
            for c, w in self.SEARCH_WEIGHTS
        )
        joins = " ".join(f"JOIN {memo} m_{c} ON m_{c}.body = p.{quote(c)}" for c in remembered)
        cursor.execute(
            f"""INSERT INTO {quote(Proposal._meta.db_table)}
                ({columns}, search_vector, support_count)
            SELECT {values}, {vector}, coalesce(s.n, 0)
            FROM {stage} p {joins}
            LEFT JOIN (SELECT proposal_id, count(*) AS n FROM {quote(self._stage(Support))}
                       GROUP BY proposal_id) s ON s.proposal_id = p.id"""
        )
        # One feed row per proposal in this transaction, as the feed's triggers log
        # it: here, while the seed makes the next chunk, rather than all at the end.
        cursor.execute(
            f"""INSERT INTO {quote(ProposalChange._meta.db_table)}
                (proposal_id, reference, xid, created_at)
            SELECT id, reference, pg_current_xact_id()::text::bigint, now() FROM {stage}
            ON CONFLICT (xid, proposal_id) DO NOTHING"""
        )

    # --- after -----------------------------------------------------------------------

    def finish(self) -> None:
        quote = self.db.ops.quote_name
        feed = quote(ProposalChange._meta.db_table)
        with self.db.cursor() as cursor:
            for _, name, definition in self.indexes:
                with self._timed(f"index {name}"):
                    cursor.execute(definition)
            with _checked_now(cursor):
                for table, name, definition in self.constraints:
                    with self._timed(f"constraint {name}"):
                        cursor.execute(
                            f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(name)} {definition}"
                        )
                for table, name in self.triggers:
                    cursor.execute(f"ALTER TABLE {quote(table)} ENABLE TRIGGER {quote(name)}")
            with self._timed("analyze"):
                cursor.execute(f"ANALYZE {', '.join(quote(t) for t in [*self.tables, feed])}")
            cursor.execute(
                f"DROP TABLE {quote(self._stage(Proposal))}, {quote(self._stage(Support))}, "
                f"{quote(self.SEARCH_MEMO)}"
            )

    @contextlib.contextmanager
    def _timed(self, step: str) -> Iterator[None]:
        started = time.monotonic()
        try:
            yield
        finally:
            self.timings[step] += time.monotonic() - started

    @staticmethod
    def _stage(model: type[models.Model]) -> str:
        return f"seed_stage_{model._meta.db_table}"

    @staticmethod
    def _fields(model: type[models.Model], row: dict[str, Any]) -> list[models.Field]:
        return [f for f in model._meta.concrete_fields if f.attname in row]


@dataclass(frozen=True)
class _Table:
    """A chunk's rows of one model, as COPY's binary data of these fields."""

    name: str  # the model's table (a through model is not to be pickled)
    columns: list[str]  # in the data's order
    data: bytes


def _no_queries(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
    raise RuntimeError(f"seed_demo's maker made a query on its parent's connection: {sql}")


@contextlib.contextmanager
def _checked_now(cursor: Any) -> Iterator[None]:
    """Run the foreign-key checks still deferred (PostgreSQL alters no table with
    checks pending on it: the accounts written before the load), then defer again,
    as Django's foreign keys are (INITIALLY DEFERRED)."""
    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    yield
    cursor.execute("SET CONSTRAINTS ALL DEFERRED")
