"""The rows of `make bench`. Add one with `@measurement("what it measures", …goal)`:
a function taking the Context and returning a Comparison of our code with its
floor (or a measured Row). Rows run in the order their modules are loaded:
ROW_MODULES first, then the rows defined here.

A module in ROW_MODULES that does not exist yet (another branch adds it) is
skipped: `load_rows()` lists it in MISSING and the table says nothing of it.
"""

from __future__ import annotations

import importlib
import math
import tempfile
import time
from typing import Any

from bench.core import COUNT, Comparison, Context, Row, Unavailable, measurement

# Modules whose import registers rows, in table order. bench.search_rows is the
# search rows' own module (issue 10's search part).
ROW_MODULES = ("bench.pages", "bench.search_rows")
MISSING: list[str] = []


def load_rows() -> None:
    """Import every row module (once), then register the rows of this module."""
    for name in ROW_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as error:
            if error.name != name:  # the module exists but something it needs does not
                raise
            if name not in MISSING:
                MISSING.append(name)
    for register in _OWN_ROWS:
        register()


# --- the REST API ----------------------------------------------------------------------------


def api_proposals_page(context: Context) -> Comparison:
    from bench import api_rows

    submitter = context.user("submitter@dfe.example")
    client = api_rows.signed_in(submitter)
    return Comparison(
        ours=lambda: api_rows.api_page(client),
        floor=api_rows.raw_page(submitter),
        same=api_rows.same_ids,
        note=f"signed-in session, full stack; floor: the page query raw + {api_rows.RENDERER}",
    )


# --- report builds: the builder against the least work for the same rows ---------------------


def _generate(user: Any, kind: str) -> int:
    from proposals import reports

    with tempfile.TemporaryFile() as out:
        return reports.generate(user=user, kind=kind, fmt="csv", filters={}, out=out)


def _copy_count(query: str, params: Any) -> int:
    """Rows of `COPY (query) TO STDOUT`: what PostgreSQL itself takes to write them out.
    Text format, where a newline inside a value is escaped, so each line is one row."""
    from django.db import connection

    if connection.vendor != "postgresql":
        raise Unavailable("COPY needs PostgreSQL")
    copied = 0
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY ({query}) TO STDOUT", params) as copy,
    ):
        for block in copy:
            copied += bytes(block).count(b"\n")
    return copied


def _same_count(ours: int, floor: int) -> str | None:
    return None if ours == floor else f"{ours} rows built, {floor} from the floor"


def report_outcomes(context: Context) -> Comparison:
    from bench.pages import ANALYST, visible

    analyst = context.user(ANALYST)
    rule, params = visible(analyst)
    query = (
        "SELECT p.reference, p.title, d.name, e.*, o.*"  # noqa: S608 - table names and the visibility rule are ours, values are bound
        " FROM proposals_outcome o JOIN proposals_experiment e ON e.id = o.experiment_id"
        " JOIN proposals_proposal p ON p.id = e.proposal_id"
        f" JOIN accounts_department d ON d.id = p.department_id WHERE o.published AND {rule}"
    )
    return Comparison(
        ours=lambda: _generate(analyst, "outcomes"),
        floor=lambda: _copy_count(query, params),
        same=_same_count,
        note="CSV to a file, as an analyst; floor: COPY of the published outcomes",
    )


def report_registry(context: Context) -> Comparison:
    from bench.pages import ANALYST, visible

    analyst = context.user(ANALYST)
    rule, params = visible(analyst)
    query = (
        "SELECT p.reference, p.title, d.name, e.title, ep.*"  # noqa: S608 - table names and the visibility rule are ours, values are bound
        " FROM proposals_evaluationplan ep JOIN proposals_experiment e ON e.id = ep.experiment_id"
        " JOIN proposals_proposal p ON p.id = e.proposal_id"
        f" JOIN accounts_department d ON d.id = p.department_id WHERE {rule}"
    )
    return Comparison(
        ours=lambda: _generate(analyst, "evaluation_registry"),
        floor=lambda: _copy_count(query, params),
        same=_same_count,
        note="CSV to a file, as an analyst; floor: COPY of the evaluation plans",
    )


def report_portfolio(context: Context) -> Comparison:
    """The report reads the page's snapshot (`portfolio.for_report`): refreshed first, as
    beat does every PORTFOLIO_REFRESH_SECONDS, so that its "Proposals submitted" is of
    the rows the floor counts now. The refresh writes only the snapshot rows (what beat
    writes on any running service, a borrowed database's included), and is not timed."""
    from bench.pages import ANALYST, visible
    from proposals import portfolio, reports

    analyst = context.user(ANALYST)
    portfolio.refresh()
    rule, params = visible(analyst)
    query = f"SELECT count(*) FROM proposals_proposal p WHERE {rule}"  # noqa: S608 - table names and the visibility rule are ours, values are bound

    def check() -> int:
        summary = reports.portfolio_tables(analyst, {}, None)[0]
        return next(value for figure, value in summary.rows if figure == "Proposals submitted")

    return Comparison(
        ours=lambda: _generate(analyst, "portfolio"),
        floor=lambda: context.sql(query, params)[0][0],
        check=check,
        same=lambda ours, floor: None if ours == floor else f"submitted {ours} vs {floor}",
        note="CSV, as an analyst, from the snapshot refreshed first (as beat does);"
        " floor: the submitted count only, 1 query",
    )


# --- exports: the report builder against PostgreSQL's COPY of the same rows ------------------


def proposals_export(context: Context) -> Comparison:
    from bench.export_rows import export_comparison

    return export_comparison(context)


# --- similar proposals: relevance on the fixture, and time per query --------------------------


def similar_relevance(context: Context) -> Comparison:
    if context.borrowed:
        raise Unavailable("it inserts its fixture: not on a database given by --database")
    from bench.similarity_rows import relevance_comparison

    return relevance_comparison(context)


# --- the session is written at most once a minute ---------------------------------------------

SESSION_REQUESTS = 100


def session_writes(context: Context) -> Row:
    """Signed-in GETs of the home page in a row: how many wrote django_session?

    The goal (issue 10, 7) is at most one write a minute: over this row's few
    seconds, at most one (the first request stamps the idle clock)."""
    from django.conf import settings
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = context.client("submitter@dfe.example")
    started = time.perf_counter()
    with CaptureQueriesContext(connection) as captured:
        for _ in range(SESSION_REQUESTS):
            response = client.get("/", secure=True)
            if response.status_code != 200:
                raise RuntimeError(f"/ answered {response.status_code}")
    elapsed = time.perf_counter() - started
    writes = sum(
        1
        for query in captured.captured_queries
        if "django_session" in query["sql"]
        and query["sql"].lstrip().upper().startswith(("UPDATE", "INSERT", "DELETE"))
    )
    allowed = 1 + math.floor(elapsed / 60)
    row = Row(
        "",
        ours=writes,
        floor=allowed,
        unit=COUNT,
        note=f"{writes} session writes in {SESSION_REQUESTS} signed-in requests over"
        f" {elapsed:.1f} s (SESSION_ACTIVITY_RESOLUTION {settings.SESSION_ACTIVITY_RESOLUTION} s);"
        " floor = allowed (1 + 1 a minute)",
    )
    return row


_OWN_ROWS = (
    lambda: measurement("API GET /api/v1/proposals/?page_size=500 as a DfE submitter", max_ratio=2)(
        api_proposals_page
    ),
    lambda: measurement("report build: portfolio summary as an analyst")(report_portfolio),
    # These two write every row in scope: they grow with the data by nature, so their
    # goal is the export's (within 2.5x of COPY of the same rows), not a flat time.
    lambda: measurement(
        "report build: experiment outcomes as an analyst", max_growth=None, max_ratio=2.5
    )(report_outcomes),
    lambda: measurement(
        "report build: Evaluation Registry as an analyst", max_growth=None, max_ratio=2.5
    )(report_registry),
    # Writes every visible row, as the two above: its goal is the ratio to COPY (issue 10, 6).
    lambda: measurement(
        "proposals export, CSV, as an analyst, vs COPY … TO STDOUT", max_growth=None, max_ratio=2.5
    )(proposals_export),
    lambda: measurement(
        "similar proposals: fixture recall@3 and time per query, as an analyst", max_growth=None
    )(similar_relevance),
    lambda: measurement(
        "session writes over 100 signed-in requests (at most 1 a minute)",
        max_growth=None,
        max_ratio=1,
    )(session_writes),
)
