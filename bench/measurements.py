"""The rows of `make bench`. Add one with `@measurement("what it measures")`:
a function taking the Context and returning a Comparison of our code with its
floor. Rows run in the order they are defined here."""

from __future__ import annotations

from typing import Any

from bench.core import Comparison, Context, Unavailable, measurement

PAGE = 50


def _visible_to() -> Any:
    try:
        from proposals.selectors import proposals_visible_to
    except ImportError as error:
        raise Unavailable(f"proposals.selectors.proposals_visible_to: {error}") from None
    return proposals_visible_to


def _proposal_columns() -> tuple[str, str]:
    """The proposal table and all its columns: what `list(queryset)` loads."""
    from proposals.models import Proposal

    columns = ", ".join(f"p.{field.column}" for field in Proposal._meta.concrete_fields)
    return Proposal._meta.db_table, columns


def _same_ids(ours: list[Any], floor: list[tuple[Any, ...]]) -> str | None:
    # Compared as sets: rows with equal updated_at may come back in either order.
    ours_ids = {proposal.pk for proposal in ours}
    floor_ids = {row[0] for row in floor}
    if ours_ids == floor_ids:
        return None
    return f"{len(ours_ids - floor_ids)} only in ours, {len(floor_ids - ours_ids)} only in floor"


@measurement(f"proposals list, newest {PAGE}, as an analyst (government-visible)")
def proposals_list_analyst(context: Context) -> Comparison:
    proposals_visible_to = _visible_to()
    analyst = context.user("analyst@gds.example")
    table, columns = _proposal_columns()
    # The floor: government-visible proposals are every submitted one shared with
    # government; the index on (visibility, status, -updated_at) serves it.
    floor_sql = (
        f"SELECT {columns} FROM {table} p"  # noqa: S608 - names from the model, not input
        " WHERE p.visibility = 'government' AND p.status <> 'draft'"
        " ORDER BY p.updated_at DESC LIMIT %s"
    )
    return Comparison(
        ours=lambda: list(proposals_visible_to(analyst).order_by("-updated_at")[:PAGE]),
        floor=lambda: context.sql(floor_sql, [PAGE]),
        same=_same_ids,
    )


@measurement(f"proposals list, newest {PAGE}, as a DfE submitter")
def proposals_list_submitter(context: Context) -> Comparison:
    from proposals.models import Proposal

    proposals_visible_to = _visible_to()
    submitter = context.user("submitter@dfe.example")
    table, columns = _proposal_columns()
    co_authors = Proposal.co_authors.through._meta.db_table
    collaborating = Proposal.collaborating_departments.through._meta.db_table
    # The floor, SPEC §1 in one query: own drafts and proposals (as submitter or
    # co-author), anything submitted that is shared with government, and
    # department-only proposals of the user's department or a collaborating one.
    floor_sql = (
        f"SELECT {columns} FROM {table} p WHERE"  # noqa: S608 - names from the model
        " p.submitter_id = %(user)s"
        f" OR EXISTS (SELECT 1 FROM {co_authors} a"
        "   WHERE a.proposal_id = p.id AND a.user_id = %(user)s)"
        " OR (p.status <> 'draft' AND ("
        "   p.visibility = 'government' OR p.department_id = %(department)s"
        f"   OR EXISTS (SELECT 1 FROM {collaborating} c"
        "     WHERE c.proposal_id = p.id AND c.department_id = %(department)s)))"
        " ORDER BY p.updated_at DESC LIMIT %(limit)s"
    )
    params = {"user": submitter.pk, "department": submitter.department_id, "limit": PAGE}
    return Comparison(
        ours=lambda: list(proposals_visible_to(submitter).order_by("-updated_at")[:PAGE]),
        floor=lambda: context.sql(floor_sql, params),
        same=_same_ids,
    )


# --- the REST API ------------------------------------------------------------


@measurement("API GET /api/v1/proposals/?page_size=500 as a DfE submitter, vs raw SQL + json.dumps")
def api_proposals_page(context: Context) -> Comparison:
    from rest_framework.test import APIClient

    from bench import api_rows

    submitter = context.user("submitter@dfe.example")
    client = APIClient()
    client.force_authenticate(submitter)  # the token lookup is one indexed query
    return Comparison(
        ours=lambda: api_rows._api_page(client)[1],
        floor=lambda: api_rows._raw_page(submitter)[1],
        same=lambda ours, floor: None if ours == floor else f"{ours} rows vs {floor}",
        note="full stack: middleware, DRF, visibility, rendering; floor = the same query raw",
    )


# --- dashboards: the page against the bare view of the same request ----------


def _dashboard(context: Context, path: str, email: str) -> Comparison:
    from django.http import HttpResponse
    from django.urls import resolve

    from bench import dashboards

    context.user(email)
    view = resolve(path).func

    def bare(request):  # the floor: the same request through an empty view
        return HttpResponse(b"")

    return Comparison(
        ours=lambda: dashboards._render(view, path, email)[0],
        floor=lambda: dashboards._render(bare, path, email)[0],
        note=f"{email}; floor = request, user and session through an empty view",
    )


@measurement("triage dashboard /review/ as DfE's lead")
def triage_dashboard(context: Context) -> Comparison:
    return _dashboard(context, "/review/", "lead@dfe.example")


@measurement("portfolio dashboard /portfolio/ as DfE's lead")
def portfolio_lead(context: Context) -> Comparison:
    return _dashboard(context, "/portfolio/", "lead@dfe.example")


@measurement("portfolio dashboard /portfolio/ as an analyst (all government)")
def portfolio_analyst(context: Context) -> Comparison:
    return _dashboard(context, "/portfolio/", "analyst@gds.example")


# --- exports: the report builder against PostgreSQL's COPY of the same rows ---


@measurement("proposals export, CSV, as an analyst, vs COPY … TO STDOUT")
def proposals_export(context: Context) -> Comparison:
    from bench.export_rows import export_comparison

    return export_comparison(context)


# --- similar proposals: relevance on the fixture, and time per query ---


@measurement("similar proposals: fixture recall@3 and time per query, as an analyst")
def similar_relevance(context: Context) -> Comparison:
    from bench.similarity_rows import relevance_comparison

    return relevance_comparison(context)
