"""Reports: requested on the page (or the API), built by a worker, downloaded by the requester.

A report is a list of tables, each produced lazily straight from the database
and written as it is produced to a temporary file in CSV, ODS or JSON, which
is then saved to Django's default storage. A table of rows is one query (two
for outcomes and their metrics, merged in order), its many-to-many columns
and the latest decision joined in as subqueries, read a chunk at a time
through a server-side cursor on a read-only connection of its own
(`reading`, `streamed`): the first rows are written at once, the number of
queries does not grow with the rows, and nothing holds more than one chunk,
so memory stays flat however many proposals there are. Summaries are SQL
aggregation.

Every row comes from `selectors.proposals_visible_to(requester)`: a report
shows exactly what its requester may see on the pages, narrowed by the one
proposal filter (`filters.ReportFilter`). The portfolio summary is the
requester's portfolio (`portfolio.portfolio`), the figures their /portfolio/
page shows.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import logging
import queue
import tempfile
import threading
import uuid
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from decimal import Decimal
from operator import itemgetter
from typing import IO, TYPE_CHECKING, Any

from django.conf import settings
from django.core.files import File
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import (
    Case,
    CharField,
    F,
    Func,
    JSONField,
    OuterRef,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Concat, JSONObject
from django.db.models.sql.constants import MULTI
from django.http import Http404
from django.utils import timezone
from stream_write_ods import stream_write_ods

from proposals import dispatch, messages, registry
from proposals import permissions as perms
from proposals.enums import (
    ReportFormat,
    ReportKind,
    ReportStatus,
    Status,
)
from proposals.filters import report_filters, reported
from proposals.models import (
    EvaluationPlan,
    Metric,
    Outcome,
    Proposal,
    Report,
)
from proposals.notifications import send
from proposals.portfolio import for_report as portfolio_for_report
from proposals.selectors import (
    evaluations_visible_to,
    latest_decision,
    outcomes_visible_to,
    proposals_visible_to,
)

if TYPE_CHECKING:
    from accounts.models import User

logger = logging.getLogger(__name__)

CHUNK_SIZE = 1000
CONTENT_TYPES: dict[str, str] = {
    ReportFormat.CSV: "text/csv; charset=utf-8",
    ReportFormat.ODS: "application/vnd.oasis.opendocument.spreadsheet",
    ReportFormat.JSON: "application/json",
}


# --- requesting ------------------------------------------------------------------------------


def clean_filters(filters: Mapping[str, Any] | None) -> dict[str, str]:
    """The proposals list's filters (status, department, theme, search), checked by the
    one proposal filter (`filters.ReportFilter`).

    Unknown names are dropped; a bad value is a ValidationError naming the field.
    """
    return report_filters(filters)


def enqueue(report_id: str) -> bool:
    return dispatch.send(dispatch.BUILD_REPORT, report_id=report_id)


def reports_for(user: User) -> QuerySet[Report]:
    return Report.objects.filter(requested_by=user).order_by("-created_at")


def report_for(user: User, report_id: Any) -> Report:
    """The user's own report, or 404: a report is only ever its requester's."""
    try:
        key = uuid.UUID(str(report_id))
    except ValueError:
        raise Http404("No such report") from None
    report = Report.objects.filter(pk=key, requested_by=user).first()
    if report is None:
        raise Http404("No such report")
    return report


def download_name(report: Report) -> str:
    day = timezone.localtime(report.created_at).strftime("%Y-%m-%d")
    return f"{report.kind}-{day}-{str(report.pk)[:8]}.{report.format}"


# --- cells --------------------------------------------------------------------------------

# A spreadsheet treats a cell starting with these as a formula (or, for tab and
# carriage return, may shift it into one): prefixing an apostrophe makes it text.
_FORMULA_STARTS = frozenset("=+-@" + "".join(map(chr, range(32))) + "\x7f")


def neutralise(value: str) -> str:
    """Defuse spreadsheet formula injection (OWASP "CSV injection")."""
    return "'" + value if value and value[0] in _FORMULA_STARTS else value


def _text(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return "; ".join(str(item) for item in value)
    return value


def csv_cell(value: Any) -> Any:
    kind = type(value)
    # Most cells are plain strings or numbers: check those first (this runs per cell).
    if kind is str:
        return "'" + value if value and value[0] in _FORMULA_STARTS else value
    if value is None:
        return ""
    if kind is int or kind is Decimal:
        return value
    if kind is bool:
        return "yes" if value else "no"
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return neutralise("; ".join(str(item) for item in value))
    return value


def ods_cell(value: Any) -> Any:
    value = _text(value)
    if isinstance(value, dt.datetime):
        # ODS dates carry no time zone: write London time, as the pages show it.
        return timezone.localtime(value).replace(tzinfo=None) if timezone.is_aware(value) else value
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, str):
        return neutralise(value)
    return value


_JSON_AS_IS = frozenset({str, int, float, bool, type(None), list, dict})


def json_cell(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, tuple):
        return list(value)
    return value


# --- tables -------------------------------------------------------------------------------


@dataclass
class Table:
    name: str
    columns: Sequence[str]
    rows: Iterable[Sequence[Any]]


class BuildStopped(Exception):
    """The build no longer holds its claim: cancelled, or taken over after its heartbeat stopped."""


class Progress:
    """Writes the percentage (and the claim's heartbeat) to the Report row as chunks are produced.

    Writes only when the whole percentage changes, so a big report costs about
    a hundred small UPDATEs, not one per chunk. The update is conditional on
    this build's claim (`claim`: status running, started at the claim's time):
    when it matches nothing the build stops (BuildStopped).
    """

    def __init__(self, report_id: Any, total: int, claim: Mapping[str, Any] | None = None) -> None:
        self.report_id = report_id
        self.total = max(total, 1)
        self.done = 0
        self.rows = 0
        self.written = -1
        self.claim = dict(claim or {})

    def advance(self, units: int, *, rows: int = 0) -> None:
        self.done += units
        self.rows += rows
        percent = min(99, int(100 * self.done / self.total))
        if percent != self.written and self.report_id is not None:
            updated = Report.objects.filter(pk=self.report_id, **self.claim).update(
                progress=percent, row_count=self.rows, heartbeat_at=timezone.now()
            )
            if not updated and self.claim:
                raise BuildStopped(str(self.report_id))
            self.written = percent


# --- reading: one query per table, streamed ---------------------------------------------


class ListOf(Subquery):
    """A one-column subquery's values (selected as `value`) as a list, in its order:
    ARRAY(…) on PostgreSQL, a JSON array decoded here on SQLite. One row per outer
    row, so lists of several relations can sit side by side in one query."""

    template = "ARRAY(%(subquery)s)"

    def __init__(self, queryset: QuerySet[Any, Any]) -> None:
        super().__init__(queryset, output_field=JSONField())

    def as_sqlite(
        self, compiler: Any, connection: BaseDatabaseWrapper, **extra: Any
    ) -> tuple[str, Sequence[Any]]:
        extra["template"] = '(SELECT json_group_array("value") FROM (%(subquery)s))'
        return self.as_sql(compiler, connection, **extra)

    def get_db_converters(self, connection: BaseDatabaseWrapper) -> list[Callable[..., Any]]:
        # PostgreSQL's driver already makes a list of an array; JSONField's own
        # converter would try to parse it.
        return [_json_list] if connection.vendor == "sqlite" else []


def _json_list(value: Any, expression: Any, connection: Any) -> list[Any]:
    return json.loads(value) if isinstance(value, str) else list(value or [])


class JoinedOf(Subquery):
    """A one-column subquery's text values (selected as `value`) joined with ";", in its
    order, "" for none: what a report writes of a list, made by the database so that
    no row is decoded and joined in Python."""

    template = "array_to_string(ARRAY(%(subquery)s), ';')"

    def __init__(self, queryset: QuerySet[Any, Any]) -> None:
        super().__init__(queryset, output_field=CharField())

    def as_sqlite(
        self, compiler: Any, connection: BaseDatabaseWrapper, **extra: Any
    ) -> tuple[str, Sequence[Any]]:
        extra["template"] = (
            "COALESCE((SELECT group_concat(\"value\", ';') FROM (%(subquery)s)), '')"
        )
        return self.as_sql(compiler, connection, **extra)


class JoinedCodes(Func):
    """A JSON list of codes (a plan's evaluation types, its designs) joined with ";",
    "" for none or not a list: `";".join(codes)`, made by the database. (The column
    appears twice; a column has no parameters.)"""

    template = (
        "array_to_string(ARRAY(SELECT jsonb_array_elements_text(CASE WHEN"
        " jsonb_typeof(%(expressions)s) = 'array' THEN %(expressions)s ELSE '[]'::jsonb END)), ';')"
    )
    output_field = CharField()

    def as_sqlite(self, compiler: Any, connection: BaseDatabaseWrapper, **extra: Any) -> Any:
        extra["template"] = (
            "COALESCE((SELECT group_concat(value, ';') FROM json_each(CASE WHEN"
            " json_type(%(expressions)s) = 'array' THEN %(expressions)s ELSE '[]' END)), '')"
        )
        return self.as_sql(compiler, connection, **extra)


class IsoDate(Func):
    """A date as ISO 8601 text (`date.isoformat()`), made by the database: to_char on
    PostgreSQL, whatever its DateStyle; SQLite stores dates so already (concatenated
    with nothing, so that its driver no longer reads a date column's value as a date)."""

    template = "to_char(%(expressions)s, 'YYYY-MM-DD')"
    output_field = CharField()

    def as_sqlite(self, compiler: Any, connection: BaseDatabaseWrapper, **extra: Any) -> Any:
        extra["template"] = "(%(expressions)s || '')"
        return self.as_sql(compiler, connection, **extra)


class DecimalText(Func):
    """A decimal field's value as `str(Decimal)` gives it, made by the database: with
    the field's decimal places, as PostgreSQL's numeric text keeps them (SQLite stores
    the number, so it is printed with them; char(37) is "%", which written as it is
    would read as a parameter's mark)."""

    template = "(%(expressions)s)::text"
    output_field = CharField()

    def __init__(self, expression: Any, places: int) -> None:
        super().__init__(expression)
        self.places = int(places)

    def as_sqlite(self, compiler: Any, connection: BaseDatabaseWrapper, **extra: Any) -> Any:
        extra["template"] = f"printf(char(37) || '.{self.places}f', %(expressions)s)"
        return self.as_sql(compiler, connection, **extra)


@contextmanager
def reading() -> Iterator[BaseDatabaseWrapper]:
    """The connection a report's rows are read through.

    Inside a transaction (a test's) it is the caller's own: a server-side
    cursor there needs nothing more, and sees the caller's rows. Outside one
    it is a connection of its own, because Django declares a server-side
    cursor WITH HOLD in autocommit, which makes
    PostgreSQL compute every row before it sends the first; and the build's
    progress writes cannot share a long transaction with the read (they would
    not be seen until the end, and would hold the report row's lock against
    the heartbeat thread). On PostgreSQL that connection reads in one
    read-only transaction (so its cursors are safe behind a transaction-pooling
    PgBouncer too); on SQLite a single SELECT is its own snapshot.
    """
    if connection.in_atomic_block:
        yield connection
        return
    reader = connections.create_connection(DEFAULT_DB_ALIAS)
    # Its queries are logged with the default connection's, so that a test's
    # query count (and the bench's) sees them.
    reader.force_debug_cursor = connection.force_debug_cursor
    reader.queries_log = connection.queries_log
    restore: Callable[[], None] | None = None
    try:
        if reader.vendor == "postgresql":
            reader.set_autocommit(False)
            restore = _load_timestamps_in_c(reader)
            with reader.cursor() as cursor:
                cursor.execute("SET TRANSACTION READ ONLY")
                # A report's query is costed high (it reads every row), so PostgreSQL
                # would compile it first: 0.3 s before the first row at 10,000
                # proposals, and slower throughout, as the work is in per-row subqueries.
                cursor.execute("SET LOCAL jit = off")
        yield reader
    finally:
        try:
            if restore is not None:
                restore()  # a pooled connection goes back as it came
            if not reader.get_autocommit():
                reader.rollback()  # it only read
        finally:
            reader.close()


def _load_timestamps_in_c(reader: BaseDatabaseWrapper) -> Callable[[], None] | None:
    """Read this connection's timestamps with psycopg's C loader.

    Django's loader (which puts the connection's time zone on each value)
    subclasses psycopg's pure-Python one: 12 µs a value against 0.7 µs here,
    and an export reads four a row. This one gives the same values, and has
    the `timezone` Django looks for, so its cursors keep it (`create_cursor`).
    Returns what puts Django's back."""
    import psycopg  # noqa: PLC0415 (PostgreSQL only: an SQLite install may have no psycopg)
    from psycopg.adapt import Loader  # noqa: PLC0415 (as above)
    from psycopg.pq import Format  # noqa: PLC0415 (as above)

    oid = psycopg.adapters.types["timestamptz"].oid
    c_loader = psycopg.adapters.get_loader(oid, Format.TEXT)  # the C one, with psycopg[binary]
    adapters = reader.connection.adapters
    django_loader = adapters.get_loader(oid, Format.TEXT)
    if c_loader is None or django_loader is None:
        return None
    in_c = c_loader

    class TimestampLoader(Loader):
        timezone = reader.timezone

        def __init__(self, oid: int, context: Any = None) -> None:
            super().__init__(oid, context)
            self._load = in_c(oid, context).load

        def load(self, data: Any) -> Any:
            return self._load(data).replace(tzinfo=self.timezone)

    adapters.register_loader(oid, TimestampLoader)
    return lambda: adapters.register_loader(oid, django_loader)


def streamed(
    queryset: QuerySet[Any, Any], using: BaseDatabaseWrapper, chunk_size: int
) -> Generator[Any]:
    """The queryset's rows (as its values_list gives them) run on `using` (from
    `reading`), fetched `chunk_size` at a time: through a server-side cursor on
    PostgreSQL, SQLite's own stepping on SQLite. What `.iterator(chunk_size=…)`
    does, on the connection of our choice, and always in a transaction on
    PostgreSQL, which is what DISABLE_SERVER_SIDE_CURSORS guards against."""
    compiler = queryset.query.get_compiler(connection=using)
    chunks = compiler.execute_sql(
        MULTI, chunked_fetch=using.features.can_use_chunked_reads, chunk_size=chunk_size
    )
    ahead = (
        _fetched_ahead(chunks) if using is not connection and using.vendor == "postgresql" else None
    )
    try:
        yield from compiler.results_iter(ahead or chunks, tuple_expected=True)
    finally:
        # Close the cursor now, while its connection is open (`reading` closes
        # that as soon as the rows stop).
        for source in (ahead, chunks):
            close = getattr(source, "close", None)
            if close is not None:
                close()


_END = object()


def _fetched_ahead(chunks: Iterator[Any], depth: int = 2) -> Generator[Any]:
    """The chunks, the next ones fetched by a thread while this one is written.

    A server-side cursor sends nothing until it is asked: fetched in turn with
    the writing, PostgreSQL would wait for Python and Python for PostgreSQL
    (at 1,000,000 proposals, 34 s of query and 28 s of writing took 94 s). The
    thread waits on the socket with the GIL released, so the two overlap; it
    holds at most `depth` chunks, so memory stays flat. Only on a connection
    of the build's own (`reading`): no other thread uses it meanwhile.
    """
    handed: queue.Queue[Any] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def hand(item: Any) -> bool:
        while not stop.is_set():
            try:
                handed.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def fetch() -> None:
        try:
            for chunk in chunks:
                if not hand(chunk):
                    return
        except BaseException as error:  # raised again where the rows are read
            hand(error)
            return
        hand(_END)

    thread = threading.Thread(target=fetch, name="report-rows", daemon=True)
    thread.start()
    try:
        while (item := handed.get()) is not _END:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        thread.join()


def counted(rows: Iterable[Any], progress: Progress | None, chunk_size: int) -> Iterator[Any]:
    """The rows, advancing `progress` after every `chunk_size` of them and at the end."""
    if progress is None:
        yield from rows
        return
    done = 0
    for row in rows:
        yield row
        done += 1
        if done == chunk_size:
            progress.advance(done, rows=done)
            done = 0
    if done:
        progress.advance(done, rows=done)


def export_queryset(user: User, filters: Mapping[str, str]) -> QuerySet[Proposal]:
    """The proposals a proposals export holds: what the list page shows this user."""
    return reported(proposals_visible_to(user), filters)


# Every field a reader of the proposal may see (never scores or assessors' comments).
PROPOSAL_COLUMNS: list[tuple[str, str]] = [
    ("Reference", "reference"),
    ("Title", "title"),
    ("Status", "status"),
    ("Department", "department__name"),
    ("Department acronym", "department__acronym"),
    ("Visibility", "visibility"),
    ("Summary", "summary"),
    ("What problem are you trying to solve?", "problem"),
    ("Who has this problem?", "who_has_the_problem"),
    ("What do you propose?", "proposed_solution"),
    ("What benefits do you expect?", "expected_benefits"),
    ("Estimated cost", "cost_band"),
    ("Estimated benefit (£ a year)", "estimated_benefit_gbp"),
    ("Hours saved a year", "hours_saved_per_year"),
    ("Themes", "themes"),
    ("Collaborating departments", "collaborating_departments"),
    ("Challenge", "challenge__title"),
    ("Submitted by", "submitter__full_name"),
    ("Decision", "decision_kind"),
    ("Decision rationale", "decision_rationale"),
    ("Merged into", "merged_into__reference"),
    ("Created", "created_at"),
    ("Updated", "updated_at"),
    ("Submitted", "submitted_at"),
    ("Decided", "decided_at"),
    ("Link", "url"),
]


# Columns the query does not select as they are: the decision's two columns come
# from one subquery (one lookup of the newest decision, not two), the link is
# made here from the reference.
_DECISION_COLUMNS = ("decision_kind", "decision_rationale")
_MADE_HERE = frozenset({*_DECISION_COLUMNS, "url"})
# The many-to-many columns, each a list expression under a name no field has.
_LISTS = {"themes": "export_themes", "collaborating_departments": "export_collaborating"}


def proposal_values(
    queryset: QuerySet[Proposal], viewer: User
) -> QuerySet[Proposal, tuple[Any, ...]]:
    """The export's one query, in reference order: a tuple per proposal of the
    PROPOSAL_COLUMNS it selects (the themes and collaborating departments as
    lists, in name order), then the newest decision the viewer may read (a
    request for more information only for the proposal's department and
    authors) as {"kind", "rationale"}, or None. It is also what the bench COPYs."""
    themes = Proposal.themes.through.objects.filter(proposal_id=OuterRef("pk"))
    collaborating = Proposal.collaborating_departments.through.objects.filter(
        proposal_id=OuterRef("pk")
    )
    decision = latest_decision(viewer).values(pair=JSONObject(kind="kind", rationale="rationale"))[
        :1
    ]
    fields = [_LISTS.get(key, key) for _, key in PROPOSAL_COLUMNS if key not in _MADE_HERE]
    return (
        queryset.annotate(
            export_themes=ListOf(themes.order_by("theme__name").values(value=F("theme__name"))),
            export_collaborating=ListOf(
                collaborating.order_by("department__name").values(value=F("department__name"))
            ),
            export_decision=Subquery(decision, output_field=JSONField()),
        )
        .order_by("reference")
        .values_list(*fields, "export_decision")
    )


def proposal_rows(
    queryset: QuerySet[Proposal],
    viewer: User,
    *,
    progress: Progress | None = None,
    chunk_size: int = CHUNK_SIZE,
) -> Iterator[Sequence[Any]]:
    """Rows in reference order, from one query read `chunk_size` rows at a time
    through a server-side cursor (`streamed`): the first row is written as soon
    as PostgreSQL has it, and memory holds one chunk however many rows there are."""
    selected = [key for _, key in PROPOSAL_COLUMNS if key not in _MADE_HERE]
    # A row is the selected values, then the decision's kind and rationale and the
    # link: this picks them out in the columns' order, in C, once per row.
    extended = [*selected, *_DECISION_COLUMNS, "url"]
    pick = itemgetter(*(extended.index(key) for _, key in PROPOSAL_COLUMNS))
    link = f"{settings.SITE_URL}/proposals/"
    reference = selected.index("reference")
    no_decision: dict[str, Any] = {}
    with (
        reading() as using,
        closing(streamed(proposal_values(queryset, viewer), using, chunk_size)) as rows,
    ):
        for row in counted(rows, progress, chunk_size):
            decision = row[-1] or no_decision
            yield pick(
                (
                    *row[:-1],
                    decision.get("kind"),
                    decision.get("rationale"),
                    f"{link}{row[reference]}/",
                )
            )


def proposals_tables(user: User, filters: Mapping[str, str], report_id: Any) -> list[Table]:
    queryset = export_queryset(user, filters)
    progress = Progress(report_id, queryset.order_by().count(), _claim_of(report_id))
    return [
        Table(
            "Proposals",
            [label for label, _ in PROPOSAL_COLUMNS],
            proposal_rows(queryset, user, progress=progress, chunk_size=settings.REPORT_CHUNK_SIZE),
        )
    ]


# (label, source): the source is the outcome's field path, or `metrics` (computed).
OUTCOME_COLUMNS: list[tuple[str, str]] = [
    ("Reference", "experiment__proposal__reference"),
    ("Proposal", "experiment__proposal__title"),
    ("Department", "experiment__proposal__department__name"),
    ("Experiment", "experiment__title"),
    ("We believe that", "experiment__we_believe"),
    ("Will result in", "experiment__will_result_in"),
    ("We will know we are right when", "experiment__we_will_know_when"),
    ("Starts", "experiment__starts_on"),
    ("Ends", "experiment__ends_on"),
    ("Budget (£)", "experiment__budget_gbp"),
    ("Experiment status", "experiment__status"),
    ("Result", "result"),
    ("Recommendation", "recommendation"),
    ("Realised benefit (£ a year)", "realised_benefit_gbp"),
    ("Lessons learned", "lessons"),
    ("Published", "published"),
    ("Published on", "published_at"),
    ("Metrics", "metrics"),
]


def outcome_values(queryset: QuerySet[Outcome]) -> QuerySet[Outcome, tuple[Any, ...]]:
    """The outcomes report's one query, in outcome order: a tuple per outcome of the
    OUTCOME_COLUMNS, in their order, the metrics a list in it (`ListOf`) of each
    metric of the outcome's experiment, in metric order, as the pages read it: "name:
    baseline B, target T unit", then ", actual A" once the outcome recorded one (the
    numbers with their decimal places, as the pages show them). It is also what the
    bench COPYs."""
    places = Metric._meta.get_field("baseline").decimal_places

    def number(path: str) -> DecimalText:
        return DecimalText(F(path), places)

    described = Concat(
        F("name"),
        Value(": baseline "),
        number("baseline"),
        Value(", target "),
        number("target"),
        Value(" "),
        F("unit"),
        Case(
            When(
                actual__value__isnull=False,
                then=Concat(Value(", actual "), number("actual__value")),
            ),
            default=Value(""),
            output_field=CharField(),
        ),
        output_field=CharField(),
    )
    # An experiment has one outcome, and an actual is recorded by that outcome.
    metrics = (
        Metric.objects.filter(experiment_id=OuterRef("experiment_id"))
        .order_by("pk")
        .values(value=described)
    )
    return (
        queryset.annotate(export_metrics=ListOf(metrics))
        .order_by("pk")
        .values_list(
            *("export_metrics" if source == "metrics" else source for _, source in OUTCOME_COLUMNS)
        )
    )


def outcome_rows(
    queryset: QuerySet[Outcome], *, progress: Progress | None = None, chunk_size: int = CHUNK_SIZE
) -> Iterator[Sequence[Any]]:
    """Rows in outcome order, from one query (`outcome_values`) read `chunk_size` rows at
    a time through a server-side cursor (`streamed`): each row is the report's as the
    database gives it, so the rows go to the writer untouched."""
    with (
        reading() as using,
        closing(streamed(outcome_values(queryset), using, chunk_size)) as rows,
    ):
        yield from counted(rows, progress, chunk_size)


def outcomes_queryset(user: User, filters: Mapping[str, str]) -> QuerySet[Outcome]:
    """The outcomes the user may see (whose proposals they may see), of the proposals
    the filters leave: without filters that is the visibility rule alone, not the rule
    twice (PostgreSQL would join the visible proposals a second time)."""
    visible = outcomes_visible_to(user)
    if not filters:
        return visible
    proposals = reported(proposals_visible_to(user), filters)
    return visible.filter(experiment__proposal__in=proposals.values("pk"))


def outcomes_tables(user: User, filters: Mapping[str, str], report_id: Any) -> list[Table]:
    queryset = outcomes_queryset(user, filters)
    progress = Progress(report_id, queryset.count(), _claim_of(report_id))
    return [
        Table(
            "Experiment outcomes",
            [label for label, _ in OUTCOME_COLUMNS],
            outcome_rows(queryset, progress=progress, chunk_size=settings.REPORT_CHUNK_SIZE),
        )
    ]


# --- the Evaluation Registry hand-off -------------------------------------------------------

# The Evaluation Task Force's Registry has no write API: departments re-key. These
# are its fields, in this order (documented in docs/data-dictionary.md).
REGISTRY_COLUMNS = (
    "reference",
    "title",
    "lead_department",
    "partner_departments",
    "status",
    "evaluation_types",
    "impact_designs",
    "process_designs",
    "economic_designs",
    "brief_description",
    "evaluation_cost_gbp",
    "plan_link",
    "link_to_published_evaluation",
    "reasons_unpublished",
    "visibility",
    "evaluation_start",
    "evaluation_end",
    "intervention_start",
    "intervention_end",
    "final_report_due",
    "final_report_published",
)
REGISTRY_LISTS = frozenset(
    {
        "partner_departments",
        "evaluation_types",
        "impact_designs",
        "process_designs",
        "economic_designs",
    }
)


def evaluation_reference(proposal_reference: str, experiment_id: int) -> str:
    """An evaluation's reference: its proposal's, and the experiment's number."""
    return f"{proposal_reference}-E{experiment_id}"


def registry_records(
    queryset: QuerySet[EvaluationPlan],
    *,
    progress: Progress | None = None,
) -> Iterator[dict[str, Any]]:
    """One record per evaluation, keyed by REGISTRY_COLUMNS (and the plan's id,
    experiment, proposal and updated_at, for the API), in plan order. Lists are
    lists here; the report joins them with ";".

    One query, the partner departments a list in it (`ListOf`): the API reads its page
    of plans at once. The report's rows are `registry_values`, the same cells made by
    the database (`registry_cells` of these records)."""
    names = (
        "pk",
        "updated_at",
        "experiment_id",
        "experiment__proposal__reference",
        "experiment__title",
        "lead_department__name",
        "registry_status",
        "registry_visibility",
        "evaluation_types",
        "impact_designs",
        "process_designs",
        "economic_designs",
        "brief_description",
        "cost_gbp",
        "plan_link",
        "report_link",
        "reason_unpublished",
        "evaluation_start",
        "evaluation_end",
        "intervention_start",
        "intervention_end",
        "actual_evaluation_start",
        "actual_evaluation_end",
        "actual_intervention_start",
        "actual_intervention_end",
        "final_report_due",
        "final_report_published",
        "partner_names",
    )
    partners = EvaluationPlan.partner_departments.through.objects.filter(
        evaluationplan_id=OuterRef("pk")
    )
    query = (
        queryset.annotate(
            registry_status=registry.status_expression(),
            registry_visibility=registry.visibility_expression(),
            partner_names=ListOf(
                partners.order_by("department__name").values(value=F("department__name"))
            ),
        )
        .order_by("pk")
        .values_list(*names)
    )
    for values in counted(query, progress, CHUNK_SIZE):
        row = dict(zip(names, values, strict=True))
        yield {
            # Not Registry columns: what the API adds to identify the row.
            "id": row["pk"],
            "experiment": row["experiment_id"],
            "proposal": row["experiment__proposal__reference"],
            "updated_at": row["updated_at"],
            "reference": evaluation_reference(
                row["experiment__proposal__reference"], row["experiment_id"]
            ),
            "title": row["experiment__title"],
            "lead_department": row["lead_department__name"],
            "partner_departments": row["partner_names"],
            "status": row["registry_status"],
            "evaluation_types": list(row["evaluation_types"] or []),
            "impact_designs": list(row["impact_designs"] or []),
            "process_designs": list(row["process_designs"] or []),
            "economic_designs": list(row["economic_designs"] or []),
            "brief_description": row["brief_description"],
            "evaluation_cost_gbp": row["cost_gbp"],
            "plan_link": row["plan_link"],
            "link_to_published_evaluation": row["report_link"],
            "reasons_unpublished": "" if row["report_link"] else row["reason_unpublished"],
            "visibility": row["registry_visibility"],
            # The actual date once recorded, the intended one until then.
            "evaluation_start": row["actual_evaluation_start"] or row["evaluation_start"],
            "evaluation_end": row["actual_evaluation_end"] or row["evaluation_end"],
            "intervention_start": row["actual_intervention_start"] or row["intervention_start"],
            "intervention_end": row["actual_intervention_end"] or row["intervention_end"],
            "final_report_due": row["final_report_due"],
            "final_report_published": row["final_report_published"],
        }


def registry_cells(record: Mapping[str, Any]) -> list[Any]:
    """A record as the report's row: lists joined with ";", dates in ISO 8601."""
    cells: list[Any] = []
    for column in REGISTRY_COLUMNS:
        value = record[column]
        if column in REGISTRY_LISTS:
            value = ";".join(value)
        elif isinstance(value, dt.date):
            value = value.isoformat()
        cells.append(value)
    return cells


def registry_queryset(user: User, filters: Mapping[str, str]) -> QuerySet[EvaluationPlan]:
    """As `outcomes_queryset`, for the evaluation plans."""
    visible = evaluations_visible_to(user)
    if not filters:
        return visible
    proposals = reported(proposals_visible_to(user), filters)
    return visible.filter(experiment__proposal__in=proposals.values("pk"))


def registry_values(
    queryset: QuerySet[EvaluationPlan],
) -> QuerySet[EvaluationPlan, tuple[Any, ...]]:
    """The Registry report's one query, in plan order: a tuple per plan of the
    REGISTRY_COLUMNS' cells, made by the database as `registry_cells` makes them of a
    `registry_records` record (the reference as `evaluation_reference`, lists joined
    with ";", the actual date once recorded, dates in ISO 8601), so that the rows go
    to the writer untouched. It is also what the bench COPYs; tests check it gives
    `registry_cells` of every record."""
    partners = EvaluationPlan.partner_departments.through.objects.filter(
        evaluationplan_id=OuterRef("pk")
    )

    def actual_or_intended(name: str) -> IsoDate:
        return IsoDate(Coalesce(f"actual_{name}", name))

    cells: dict[str, Any] = {
        "reference": Concat(
            F("experiment__proposal__reference"),
            Value("-E"),
            F("experiment_id"),
            output_field=CharField(),
        ),
        "title": F("experiment__title"),
        "lead_department": F("lead_department__name"),
        "partner_departments": JoinedOf(
            partners.order_by("department__name").values(value=F("department__name"))
        ),
        "status": registry.status_expression(),
        "evaluation_types": JoinedCodes("evaluation_types"),
        "impact_designs": JoinedCodes("impact_designs"),
        "process_designs": JoinedCodes("process_designs"),
        "economic_designs": JoinedCodes("economic_designs"),
        "brief_description": F("brief_description"),
        "evaluation_cost_gbp": F("cost_gbp"),
        "plan_link": F("plan_link"),
        "link_to_published_evaluation": F("report_link"),
        "reasons_unpublished": Case(
            When(report_link="", then=F("reason_unpublished")),
            default=Value(""),
            output_field=CharField(),
        ),
        "visibility": registry.visibility_expression(),
        "evaluation_start": actual_or_intended("evaluation_start"),
        "evaluation_end": actual_or_intended("evaluation_end"),
        "intervention_start": actual_or_intended("intervention_start"),
        "intervention_end": actual_or_intended("intervention_end"),
        "final_report_due": IsoDate("final_report_due"),
        "final_report_published": IsoDate("final_report_published"),
    }
    # Under names no field has (a plan has a brief_description, a plan_link…).
    names = [f"registry_{column}" for column in REGISTRY_COLUMNS]
    return (
        queryset.annotate(**{f"registry_{column}": cells[column] for column in REGISTRY_COLUMNS})
        .order_by("pk")
        .values_list(*names)
    )


def registry_rows(
    queryset: QuerySet[EvaluationPlan],
    *,
    progress: Progress | None = None,
    chunk_size: int = CHUNK_SIZE,
) -> Iterator[Sequence[Any]]:
    """The Registry report's rows, in plan order, from one query (`registry_values`)
    read `chunk_size` rows at a time through a server-side cursor (`streamed`)."""
    with (
        reading() as using,
        closing(streamed(registry_values(queryset), using, chunk_size)) as rows,
    ):
        yield from counted(rows, progress, chunk_size)


def registry_tables(user: User, filters: Mapping[str, str], report_id: Any) -> list[Table]:
    queryset = registry_queryset(user, filters)
    progress = Progress(report_id, queryset.count(), _claim_of(report_id))
    return [
        Table(
            "Evaluation Registry",
            list(REGISTRY_COLUMNS),
            registry_rows(queryset, progress=progress, chunk_size=settings.REPORT_CHUNK_SIZE),
        )
    ]


# --- the portfolio summary (the portfolio's one computation) ---------------------------------


# The portfolio summary's tables and their columns, in order (their meanings: glossary.PORTFOLIO).
PORTFOLIO_COLUMNS: dict[str, list[str]] = {
    "Summary": ["Figure", "Value"],
    "By stage, department and theme": ["Status", "Department", "Theme", "Proposals"],
    "Days to decision": ["Department", "Proposals decided", "Median days to decision"],
    "Experiment results": ["Department", "Result", "Outcomes"],
    "Estimated and realised benefit": [
        "Department",
        "Proposals approved",
        "Estimated benefit (£ a year)",
        "Realised benefit (£ a year)",
    ],
}
# The Summary table's figures, in order.
SUMMARY_FIGURES = (
    "Proposals submitted",
    "Proposals decided",
    "Median days from submission to decision",
    "Estimated benefit (£ a year)",
    "Realised benefit (£ a year)",
)
# The Summary's last row: when its figures were computed (a snapshot's refresh, or now).
FIGURES_AS_OF = "Figures as of"


def portfolio_tables(user: User, filters: Mapping[str, str], report_id: Any) -> list[Table]:
    """The figures of the user's /portfolio/ page, as tables: the same snapshot the page
    reads, and as of the same time, which the Summary says (`portfolio.for_report`)."""
    figures = portfolio_for_report(user, filters)
    labels = dict(Status.choices)
    departments = sorted(figures.by_department, key=lambda row: row["department__name"])
    values = (
        figures.total,
        figures.decided,
        figures.median_days_to_decision,
        figures.estimated_benefit_gbp,
        figures.realised_benefit_gbp,
    )
    summary: list[list[Any]] = [[f, v] for f, v in zip(SUMMARY_FIGURES, values, strict=True)]
    # When the figures were computed, in the page's words ("10:42am on 7 December 2026").
    summary.append([FIGURES_AS_OF, figures.as_of.removeprefix(f"{FIGURES_AS_OF} ")])
    stages = [
        [labels.get(status, status), department, theme or "No theme", n]
        for status, department, theme, n in figures.by_stage
    ]
    decisions = [
        [row["department__name"], row["decided"], row["median_days"]]
        for row in departments
        if row["decided"]
    ]
    decisions.append(["All departments", figures.decided, figures.median_days_to_decision])
    benefit = [
        [row["department__name"], row["approved"], row["estimated"], row["realised"]]
        for row in departments
        if row["approved"] or row["outcomes"]
    ]
    progress = Progress(report_id, 5, _claim_of(report_id))

    def step(rows: list[list[Any]]) -> Iterator[list[Any]]:
        yield from rows
        progress.advance(1, rows=len(rows))

    rows = {
        "Summary": summary,
        "By stage, department and theme": stages,
        "Days to decision": decisions,
        "Experiment results": [list(row) for row in figures.results_by_department],
        "Estimated and realised benefit": benefit,
    }
    return [Table(name, columns, step(rows[name])) for name, columns in PORTFOLIO_COLUMNS.items()]


def _claim_of(report_id: Any) -> dict[str, Any]:
    """The conditions that say this build still holds its report (see `build`)."""
    if report_id is None:
        return {}
    started = Report.objects.filter(pk=report_id).values_list("started_at", flat=True).first()
    return {"status": ReportStatus.RUNNING, "started_at": started}


BUILDERS: dict[str, Callable[[User, Mapping[str, str], Any], list[Table]]] = {
    ReportKind.PROPOSALS: proposals_tables,
    ReportKind.PORTFOLIO: portfolio_tables,
    ReportKind.OUTCOMES: outcomes_tables,
    ReportKind.EVALUATION_REGISTRY: registry_tables,
}


# --- writers ---------------------------------------------------------------------------------


def write_csv(tables: Sequence[Table], out: IO[bytes]) -> None:
    text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=False)
    writer = csv.writer(text)
    several = len(tables) > 1
    for index, table in enumerate(tables):
        if several:
            if index:
                writer.writerow([])
            writer.writerow([table.name])
        writer.writerow(table.columns)
        # Numbers, empty cells (the writer writes None as nothing) and text no
        # spreadsheet reads as a formula go as they are, as csv_cell would give
        # them back: a call per cell is most of the cost of a big export.
        writerow, starts, cell = writer.writerow, _FORMULA_STARTS, csv_cell
        for row in table.rows:
            writerow(
                [
                    value
                    if (kind := type(value)) is int
                    or value is None
                    or (kind is str and value[:1] not in starts)
                    else cell(value)
                    for value in row
                ]
            )
    text.flush()
    text.detach()


def write_ods(tables: Sequence[Table], out: IO[bytes]) -> None:
    sheets = (
        (table.name[:31], list(table.columns), ([ods_cell(v) for v in row] for row in table.rows))
        for table in tables
    )
    for chunk in stream_write_ods(sheets):
        out.write(chunk)


def write_json(tables: Sequence[Table], out: IO[bytes], *, meta: Mapping[str, Any]) -> None:
    """{"kind", "generated_at", "filters", "tables": [{"name", "columns", "rows": [{…}]}]},
    written row by row."""

    def put(text: str) -> None:
        out.write(text.encode())

    encode = json.JSONEncoder(ensure_ascii=False).encode  # what json.dumps makes per call
    head = json.dumps(dict(meta), ensure_ascii=False)
    put(head[:-1] + ', "tables": [')
    for index, table in enumerate(tables):
        put(("," if index else "") + "{")
        put(f'"name": {json.dumps(table.name)}, "columns": {json.dumps(list(table.columns))}, ')
        put('"rows": [')
        first = True
        columns = table.columns
        for row in table.rows:
            # Values JSON takes as they are (json_cell would give them back) skip the call.
            record = {
                column: value if type(value) in _JSON_AS_IS else json_cell(value)
                for column, value in zip(columns, row, strict=True)
            }
            put(("" if first else ",\n") + encode(record))
            first = False
        put("]}")
    put("]}\n")


def write_report(
    fmt: str, tables: Sequence[Table], out: IO[bytes], *, meta: Mapping[str, Any]
) -> None:
    if fmt == ReportFormat.CSV:
        write_csv(tables, out)
    elif fmt == ReportFormat.ODS:
        write_ods(tables, out)
    else:
        write_json(tables, out, meta=meta)


def generate(
    *,
    user: User,
    kind: str,
    fmt: str,
    filters: Mapping[str, str],
    out: IO[bytes],
    report_id: Any = None,
) -> int:
    """Write a report to `out`; returns the number of data rows. Used by `build` and the bench."""
    built = BUILDERS[kind](user, filters, report_id)
    counted = 0

    def counting(rows: Iterable[Sequence[Any]]) -> Iterator[Sequence[Any]]:
        nonlocal counted
        for row in rows:
            counted += 1
            yield row

    tables = [Table(t.name, t.columns, counting(t.rows)) for t in built]
    meta = {
        "kind": kind,
        "generated_at": timezone.now().isoformat(),
        "filters": dict(filters),
    }
    try:
        write_report(fmt, tables, out, meta=meta)
    finally:
        # A table's rows hold their read (a connection, a cursor) until they end:
        # when writing stops half-way, end it now rather than when it is collected.
        for table in [*tables, *built]:
            close = getattr(table.rows, "close", None)
            if close is not None:
                close()
    return counted


# --- building ------------------------------------------------------------------------------


def build(report_id: str) -> bool:
    """Claim the report, build it to a temporary file, save it to storage, tell the requester.

    Safe to run twice: the claim is a conditional update from `queued`. While
    it builds, the row's heartbeat is stamped (by each step of progress, and
    by `dispatch.keep_alive` in between), so a build whose worker died is
    released by the sweep within a minute and built again, REPORT_MAX_ATTEMPTS
    times at most (see `sweep`). A build that finds its claim gone (cancelled
    in the admin, or taken over) stops and writes nothing.
    """
    now = timezone.now()
    claimed = Report.objects.filter(status=ReportStatus.QUEUED, pk=report_id).update(
        status=ReportStatus.RUNNING,
        started_at=now,
        heartbeat_at=now,
        unpublished=False,
        attempts=F("attempts") + 1,
        progress=0,
        row_count=0,
        error="",
    )
    if not claimed:
        return False
    claim = {"status": ReportStatus.RUNNING, "started_at": now}
    report = Report.objects.select_related("requested_by").get(pk=report_id)
    user = report.requested_by
    try:
        if not user.is_active or not perms.can_request_reports(user):
            raise PermissionError("The requester can no longer request reports")
        with dispatch.keep_alive(Report, report.pk, **claim), tempfile.TemporaryFile() as handle:
            rows = generate(
                user=user,
                kind=report.kind,
                fmt=report.format,
                filters=report.filters or {},
                out=handle,
                report_id=report.pk,
            )
            handle.seek(0)
            report.file.save(download_name(report), File(handle), save=False)
    except BuildStopped:
        logger.info("Report %s stopped: its claim was cancelled or taken over", report_id)
        return False
    except Exception as error:
        logger.exception("Report %s failed", report_id)
        message = (
            str(error)
            if isinstance(error, PermissionError)
            else "Something went wrong building this report. Try requesting it again."
        )
        with transaction.atomic():
            failed = Report.objects.filter(pk=report.pk, **claim).update(
                status=ReportStatus.FAILED, error=message, finished_at=timezone.now()
            )
            if failed:
                _notify_ready(report, ok=False)
        return False
    finished = timezone.now()
    with transaction.atomic():
        done = Report.objects.filter(pk=report.pk, **claim).update(
            status=ReportStatus.DONE,
            progress=100,
            row_count=rows,
            file=report.file.name,
            finished_at=finished,
            expires_at=finished + dt.timedelta(days=settings.REPORT_EXPIRY_DAYS),
        )
        if done:
            _notify_ready(report, ok=True)
    if not done:
        # Cancelled (or taken over) after the last step: this build's file is nobody's.
        report.file.storage.delete(report.file.name)
        return False
    return True


def _notify_ready(report: Report, *, ok: bool) -> None:
    send(messages.report_finished(report, ok=ok))


def expire(*, now: dt.datetime | None = None) -> int:
    """Delete files past their expiry date; the row stays, marked expired."""
    now = now or timezone.now()
    expired = 0
    for report in Report.objects.filter(status=ReportStatus.DONE, expires_at__lt=now):
        if report.file:
            report.file.storage.delete(report.file.name)
        expired += Report.objects.filter(pk=report.pk, status=ReportStatus.DONE).update(
            status=ReportStatus.EXPIRED, file=""
        )
    return expired


GAVE_UP = (
    "This report stopped part-way through being built {attempts} times, so it has not "
    "been made. Try again, or ask for a smaller report."
)
CANCELLED = "This report was cancelled by the service team."


def sweep(
    *, older_than_seconds: int | None = None, handed_before: dt.datetime | None = None
) -> int:
    """Re-enqueue reports whose message was lost, or whose build stopped (heartbeat expired).

    A build that stopped REPORT_MAX_ATTEMPTS times fails, with a message its
    requester sees on the reports page (where they can try again) and is told.
    """
    seconds = older_than_seconds or settings.NOTIFICATION_SWEEP_AFTER_SECONDS
    ids = dispatch.requeue_stale(
        Report,
        older_than_seconds=seconds,
        limit=500,
        handed_before=handed_before,
        pending=ReportStatus.QUEUED,
        claimed=ReportStatus.RUNNING,
        failed=ReportStatus.FAILED,
        handed_field="started_at",
        error_field="error",
        max_attempts=settings.REPORT_MAX_ATTEMPTS,
        gave_up=GAVE_UP,
        on_give_up=_gave_up,
    )
    return sum(enqueue(pk) for pk in ids)


def _gave_up(ids: Sequence[Any]) -> None:
    Report.objects.filter(pk__in=ids).update(finished_at=timezone.now())
    for report in Report.objects.filter(pk__in=ids).select_related("requested_by"):
        _notify_ready(report, ok=False)
