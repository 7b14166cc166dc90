"""Page rows: the real page through the whole stack, against its floor.

Ours is a GET with Django's test Client signed in as a demo account
(`force_login`: the session is a row in django_session, read back on every
request), so every middleware, the session and user lookups, the view, its
selectors and the template are timed, and the response must be 200.

The floor is the least work that gives the same answer: hand-written SQL for
the figures and rows the page shows, rendered as the barest HTML (or orjson for
the API). Before the row counts, the page is fetched once more with its
template context captured, and the answer read from it must equal the floor's
(the same references in the same order, the same counts): a floor that answers
another question fails the row.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Callable, Mapping
from typing import Any

from bench.core import Comparison, Context, Unavailable, measurement

ANALYST = "analyst@gds.example"
LEAD = "lead@dfe.example"
SUBMITTER = "submitter@dfe.example"

PROPOSAL = "proposals_proposal"
DEPARTMENT = "accounts_department"
CO_AUTHORS = "proposals_proposal_co_authors"
COLLABORATING = "proposals_proposal_collaborating_departments"


# --- the machinery ---------------------------------------------------------------------------


def get(client: Any, path: str) -> Any:
    """One request through the whole stack; anything but 200 stops the row."""
    response = client.get(path, secure=True)
    if response.status_code != 200:
        raise RuntimeError(f"{path} answered {response.status_code}")
    return response


def page_with_context(client: Any, path: str) -> tuple[Any, Any]:
    """The page and its template context, for the untimed comparison only.

    The test Client records contexts only while templates are instrumented (as
    under the test runner); this switches that on for one request and back off,
    so the timed requests render as production does.
    """
    from django.template import Template
    from django.test import utils

    original = Template._render  # type: ignore[attr-defined]
    Template._render = utils.instrumented_test_render  # type: ignore[attr-defined]
    try:
        response = get(client, path)
    finally:
        Template._render = original  # type: ignore[attr-defined]
    if response.context is None:
        raise RuntimeError(f"{path} rendered no template")
    return response, response.context


def differences(ours: Mapping[str, Any], floor: Mapping[str, Any]) -> str | None:
    """Which parts of two answers differ, briefly."""
    wrong = []
    for key in sorted(set(ours) | set(floor)):
        mine, theirs = ours.get(key), floor.get(key)
        if mine != theirs:
            wrong.append(f"{key}: page {_brief(mine)} vs floor {_brief(theirs)}")
    return "; ".join(wrong) or None


def _brief(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def page_row(
    context: Context,
    *,
    path: str,
    email: str,
    answer: Callable[[Any], dict[str, Any]],
    floor: Callable[[], dict[str, Any]],
    note: str,
) -> Comparison:
    """A page against its floor. `answer(template_context)` reads the page's answer;
    `floor()` computes it by hand and renders it, returning the same keys."""
    client = context.client(email)

    def check() -> dict[str, Any]:
        _, template_context = page_with_context(client, path)
        return answer(template_context)

    return Comparison(
        ours=lambda: get(client, path).content,
        floor=floor,
        check=check,
        same=lambda ours, theirs: differences(ours, {k: v for k, v in theirs.items() if k != "_"}),
        note=note,
    )


def bare_html(rows: list[tuple[Any, ...]]) -> bytes:
    """The floor's rendering: a table of escaped cells, as little as shows the rows."""
    cells = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(cell))}</td>" for cell in row) + "</tr>"
        for row in rows
    )
    return f"<table>{cells}</table>".encode()


def visible(user: Any, alias: str = "p") -> tuple[str, dict[str, Any]]:
    """SPEC §1's visibility rule as hand-written SQL on `alias` (the floor's own
    copy; the comparison with the page is what proves it the same rule)."""
    if user.role == "analyst":
        return f"({alias}.status <> 'draft' AND {alias}.visibility = 'government')", {}
    rule = (
        f"({alias}.submitter_id = %(user)s"  # noqa: S608 - table names and the visibility rule are ours, values are bound
        f" OR EXISTS (SELECT 1 FROM {CO_AUTHORS} ca"
        f"   WHERE ca.proposal_id = {alias}.id AND ca.user_id = %(user)s)"
        f" OR ({alias}.status <> 'draft' AND ({alias}.visibility = 'government'"
        f"   OR {alias}.department_id = %(department)s"
        f"   OR EXISTS (SELECT 1 FROM {COLLABORATING} cd"
        f"     WHERE cd.proposal_id = {alias}.id AND cd.department_id = %(department)s))))"
    )
    return rule, {"user": user.pk, "department": user.department_id}


# --- /proposals/ ------------------------------------------------------------------------------


def _find(context: Context, email: str, sort: str) -> Comparison:
    from proposals.views._paging import LIST_COUNT_CAP
    from proposals.views.find import PAGE_SIZE

    user = context.user(email)
    rule, params = visible(user)
    rule_counted, _ = visible(user, "c")
    order = {
        "": "p.updated_at DESC, p.id DESC",
        "supported": "p.support_count DESC, p.updated_at DESC, p.id DESC",
        "newest": "p.created_at DESC, p.id DESC",
    }[sort]
    query = (
        "SELECT p.reference, p.title, p.summary, p.status, d.name, p.updated_at, p.support_count,"  # noqa: S608 - table names and the visibility rule are ours, values are bound
        f" (SELECT count(*) FROM (SELECT 1 FROM {PROPOSAL} c WHERE {rule_counted}"
        "   LIMIT %(cap)s) counted)"
        f" FROM {PROPOSAL} p JOIN {DEPARTMENT} d ON d.id = p.department_id"
        f" WHERE {rule} ORDER BY {order} LIMIT %(page)s"
    )
    params = {**params, "cap": LIST_COUNT_CAP + 1, "page": PAGE_SIZE}

    def floor() -> dict[str, Any]:
        rows = context.sql(query, params)
        body = bare_html([row[:7] for row in rows])
        return {
            "references": [row[0] for row in rows],
            "count": rows[0][7] if rows else 0,
            "_": body,
        }

    def answer(page: Any) -> dict[str, Any]:
        return {"references": [p.reference for p in page["proposals"]], "count": page["count"]}

    path = "/proposals/" + (f"?sort={sort}" if sort else "")
    return page_row(
        context,
        path=path,
        email=email,
        answer=answer,
        floor=floor,
        note=f"{email}; floor: 1 query (page + capped count)",
    )


@measurement("page /proposals/ (recently updated) as an analyst")
def find_analyst(context: Context) -> Comparison:
    return _find(context, ANALYST, "")


@measurement("page /proposals/ (recently updated) as a DfE submitter")
def find_submitter(context: Context) -> Comparison:
    return _find(context, SUBMITTER, "")


@measurement("page /proposals/?sort=newest as an analyst")
def find_newest(context: Context) -> Comparison:
    return _find(context, ANALYST, "newest")


@measurement("page /proposals/?sort=supported (most supported) as an analyst")
def find_supported(context: Context) -> Comparison:
    return _find(context, ANALYST, "supported")


# --- home and a proposal ----------------------------------------------------------------------


@measurement("page / (home) as a DfE submitter")
def home(context: Context) -> Comparison:
    from proposals.views.home import HOME_PROPOSALS

    user = context.user(SUBMITTER)
    rule, params = visible(user)
    # The unread count in the outer query, so it comes back even with no proposals.
    query = (
        "SELECT n.unread, p.reference, p.title, p.status, p.updated_at FROM"  # noqa: S608 - table names and the visibility rule are ours, values are bound
        " (SELECT count(*) AS unread FROM proposals_notification"
        "   WHERE recipient_id = %(user)s AND read_at IS NULL) n"
        f" LEFT JOIN LATERAL (SELECT * FROM {PROPOSAL} p WHERE {rule} AND"
        "   (p.submitter_id = %(user)s OR EXISTS (SELECT 1 FROM"
        f"   {CO_AUTHORS} a WHERE a.proposal_id = p.id AND a.user_id = %(user)s))"
        "   ORDER BY p.updated_at DESC LIMIT %(page)s) p ON true"
    )
    params = {**params, "user": user.pk, "page": HOME_PROPOSALS}

    def floor() -> dict[str, Any]:
        rows = context.sql(query, params)
        # The page lists them newest first without a tie-break: compared as a set.
        mine = {r[1] for r in rows if r[1] is not None}
        return {"mine": mine, "unread": rows[0][0], "_": bare_html(rows)}

    def answer(page: Any) -> dict[str, Any]:
        return {"mine": {p.reference for p in page["proposals"]}, "unread": page["unread"]}

    return page_row(
        context,
        path="/",
        email=SUBMITTER,
        answer=answer,
        floor=floor,
        note="floor: own 20 proposals + unread count, 1 query",
    )


@measurement("page /proposals/<ref>/ (a proposal) as an analyst")
def proposal_page(context: Context) -> Comparison:
    user = context.user(ANALYST)
    rule, params = visible(user)
    found = context.sql(
        f"SELECT p.reference FROM {PROPOSAL} p WHERE {rule}"  # noqa: S608 - table names and the visibility rule are ours, values are bound
        " ORDER BY p.support_count DESC, p.id LIMIT 1",
        params,
    )
    if not found:
        raise Unavailable("no proposal visible to the analyst")
    reference = found[0][0]
    query = (
        "SELECT p.reference, p.title, p.summary, p.problem, p.status, d.name,"  # noqa: S608 - table names and the visibility rule are ours, values are bound
        " p.support_count FROM proposals_proposal p"
        " JOIN accounts_department d ON d.id = p.department_id"
        f" WHERE p.reference = %(reference)s AND {rule}"
    )
    params = {**params, "reference": reference}

    def floor() -> dict[str, Any]:
        rows = context.sql(query, params)
        return {"reference": rows[0][0], "title": rows[0][1], "_": bare_html(rows)}

    def answer(page: Any) -> dict[str, Any]:
        return {"reference": page["proposal"].reference, "title": page["proposal"].title}

    return page_row(
        context,
        path=f"/proposals/{reference}/",
        email=ANALYST,
        answer=answer,
        floor=floor,
        note=f"{reference} (the most supported); floor: the proposal's row, 1 query",
    )


# --- review: triage and the panel sheet -------------------------------------------------------


@measurement("page /review/ (triage dashboard) as DfE's lead")
def triage(context: Context) -> Comparison:
    from django.utils import timezone

    from proposals.dashboards import COUNT_CAP, overdue_before
    from proposals.views.review import QUEUE_PAGE_SIZE

    lead = context.user(LEAD)
    today = timezone.localdate()
    boundary = timezone.make_aware(
        dt.datetime.combine(overdue_before(today, lead.department.triage_target_days), dt.time.min)
    )
    counts_sql = (
        f"SELECT status, count(*) FROM {PROPOSAL}"  # noqa: S608 - table names and the visibility rule are ours, values are bound
        " WHERE department_id = %s AND status <> 'draft' GROUP BY status"
    )
    # The window counts see every queued row before LIMIT cuts the page.
    queue_sql = (
        "SELECT reference, submitted_at < %(boundary)s, count(*) OVER (),"  # noqa: S608 - table names and the visibility rule are ours, values are bound
        " count(*) FILTER (WHERE submitted_at < %(boundary)s) OVER ()"
        f" FROM {PROPOSAL} WHERE department_id = %(department)s AND status = 'submitted'"
        " ORDER BY submitted_at, reference LIMIT %(page)s"
    )
    params = {"boundary": boundary, "department": lead.department_id, "page": QUEUE_PAGE_SIZE}

    def floor() -> dict[str, Any]:
        counts = dict(context.sql(counts_sql, [lead.department_id]))
        queue = context.sql(queue_sql, params)
        total, overdue = (queue[0][2], queue[0][3]) if queue else (0, 0)
        return {
            "counts": counts,
            # The page's total is the counter's (exact); its overdue figure stops
            # at the cap ("more than 1,000").
            "waiting": ((total, False), (min(overdue, COUNT_CAP), overdue > COUNT_CAP)),
            "queue": [r[0] for r in queue],
            "_": bare_html(list(counts.items())) + bare_html(queue),
        }

    def answer(page: Any) -> dict[str, Any]:
        return {
            "counts": {c["status"].value: c["count"] for c in page["counts"] if c["count"]},
            "waiting": tuple(
                (figure.count, figure.more)
                for figure in (page["summary"]["total"], page["summary"]["overdue"])
            ),
            "queue": [p.reference for p in page["rows"]],
        }

    return page_row(
        context,
        path="/review/",
        email=LEAD,
        answer=answer,
        floor=floor,
        note="floor: counts by status + queue page with its totals, 2 queries",
    )


@measurement("page /review/panel/ (panel sheet) as DfE's lead")
def panel(context: Context) -> Comparison:
    from proposals.views.review import QUEUE_PAGE_SIZE

    lead = context.user(LEAD)
    # The sheet ranks what the lead may read: not their own proposals, nor those
    # whose assessment they have still to submit (those are listed apart).
    query = (
        "SELECT p.reference FROM proposals_panel_score s"  # noqa: S608 - table names are ours, values are bound
        f" JOIN {PROPOSAL} p ON p.id = s.proposal_id"
        " WHERE s.department_id = %(department)s AND p.submitter_id <> %(user)s"
        " AND NOT EXISTS (SELECT 1 FROM proposals_proposal_co_authors c"
        "  WHERE c.proposal_id = p.id AND c.user_id = %(user)s)"
        " AND NOT EXISTS (SELECT 1 FROM proposals_assessment a WHERE a.proposal_id = p.id"
        "  AND a.assessor_id = %(user)s AND a.submitted_at IS NULL)"
        " ORDER BY s.rank_score DESC, s.submitted_at, s.proposal_id LIMIT %(page)s"
    )
    total = (
        "SELECT coalesce(sum(count), 0) FROM proposals_status_count"
        " WHERE department_id = %s AND status = 'in_review'"
    )
    params = {"department": lead.department_id, "user": lead.pk, "page": QUEUE_PAGE_SIZE}

    def floor() -> dict[str, Any]:
        rows = context.sql(query, params)
        in_review = context.sql(total, [lead.department_id])[0][0]
        return {
            "ranked": [r[0] for r in rows],
            "in_review": int(in_review),
            "_": bare_html(rows),
        }

    def answer(page: Any) -> dict[str, Any]:
        return {
            "ranked": [p.reference for p in page["rows"]],
            "in_review": page["total"].count,
        }

    return page_row(
        context,
        path="/review/panel/",
        email=LEAD,
        answer=answer,
        floor=floor,
        note="floor: first page off the panel-score index + the status counter, 2 queries",
    )


# --- portfolio, lessons, experiments ----------------------------------------------------------


def _portfolio(context: Context, email: str) -> Comparison:
    user = context.user(email)
    if user.role == "analyst":
        scope, params = visible(user)
    else:
        scope, params = (
            "p.department_id = %(department)s AND p.status <> 'draft'",
            {"department": user.department_id},
        )
    query = (
        "SELECT p.status, count(*),"  # noqa: S608 - table names and the visibility rule are ours, values are bound
        " coalesce(sum(p.estimated_benefit_gbp) FILTER"
        "   (WHERE p.status IN ('approved', 'experimenting', 'completed')), 0),"
        " count(*) FILTER (WHERE p.decided_at IS NOT NULL AND p.submitted_at IS NOT NULL)"
        f" FROM {PROPOSAL} p WHERE {scope} GROUP BY p.status"
    )

    def floor() -> dict[str, Any]:
        rows = context.sql(query, params)
        return {
            "counts": {r[0]: r[1] for r in rows},
            "total": sum(r[1] for r in rows),
            "estimated": sum(r[2] for r in rows),
            "decided": sum(r[3] for r in rows),
            "_": bare_html(rows),
        }

    def answer(page: Any) -> dict[str, Any]:
        data = page["data"]
        return {
            "counts": {k: v for k, v in data.counts.items() if v},
            "total": data.total,
            "estimated": data.estimated_benefit_gbp,
            "decided": data.decided,
        }

    return page_row(
        context,
        path="/portfolio/",
        email=email,
        answer=answer,
        floor=floor,
        note="floor: counts, benefit, decided by status, 1 query (not the medians or themes)",
    )


@measurement("page /portfolio/ as an analyst (all government)")
def portfolio_analyst(context: Context) -> Comparison:
    return _portfolio(context, ANALYST)


@measurement("page /portfolio/ as DfE's lead")
def portfolio_lead(context: Context) -> Comparison:
    return _portfolio(context, LEAD)


@measurement("page /lessons/ as an analyst")
def lessons(context: Context) -> Comparison:
    from proposals.views._paging import LIST_COUNT_CAP
    from proposals.views.lessons import PAGE_SIZE

    user = context.user(ANALYST)
    rule, params = visible(user)
    published = (
        " FROM proposals_outcome o JOIN proposals_experiment e ON e.id = o.experiment_id"
        f" JOIN {PROPOSAL} p ON p.id = e.proposal_id"
        f" WHERE o.published AND {rule} ORDER BY o.published_at DESC, o.id DESC"
    )
    query = f"SELECT o.id, p.reference, o.published_at{published} LIMIT %(page)s"
    # The page counts to its cap ("more than 1,000"): so does the floor.
    count = f"SELECT count(*) FROM (SELECT 1{published} LIMIT %(cap)s) capped"  # noqa: S608 - as above
    params = {**params, "page": PAGE_SIZE, "cap": LIST_COUNT_CAP + 1}

    def floor() -> dict[str, Any]:
        rows = context.sql(query, params)
        total = context.sql(count, params)[0][0]
        return {
            "lessons": [r[0] for r in rows],
            "published": total,
            "_": bare_html(rows),
        }

    def answer(page: Any) -> dict[str, Any]:
        return {
            "lessons": [o.pk for o in page["page_obj"].object_list],
            "published": page["page_obj"].paginator.count,
        }

    return page_row(
        context,
        path="/lessons/",
        email=ANALYST,
        answer=answer,
        floor=floor,
        note="floor: first page of published outcomes + their count to the cap, 2 queries",
    )


@measurement("page /experiments/ as an analyst")
def experiments(context: Context) -> Comparison:
    from proposals.views.experiments import PAGE_SIZE

    user = context.user(ANALYST)
    rule, params = visible(user)
    query = (
        "(SELECT 'running', e.id, e.ends_on FROM proposals_experiment e"  # noqa: S608 - table names and the visibility rule are ours, values are bound
        f" JOIN {PROPOSAL} p ON p.id = e.proposal_id"
        f" WHERE e.status IN ('planned', 'running') AND {rule}"
        " ORDER BY e.ends_on, e.id LIMIT %(page)s)"
        " UNION ALL"
        " (SELECT 'awaiting', e.id, e.ends_on FROM proposals_experiment e"
        f" JOIN {PROPOSAL} p ON p.id = e.proposal_id"
        f" WHERE e.status IN ('stopped', 'completed') AND {rule} AND NOT EXISTS"
        "   (SELECT 1 FROM proposals_outcome o WHERE o.experiment_id = e.id)"
        " ORDER BY e.ends_on, e.id LIMIT %(page)s)"
    )
    params = {**params, "page": PAGE_SIZE}

    def floor() -> dict[str, Any]:
        rows = context.sql(query, params)
        return {
            "running": [r[1] for r in rows if r[0] == "running"],
            "awaiting": [r[1] for r in rows if r[0] == "awaiting"],
            "_": bare_html(rows),
        }

    def answer(page: Any) -> dict[str, Any]:
        return {
            "running": [e.pk for e in page["page_obj"].object_list],
            "awaiting": [e.pk for e in page["awaiting"]],
        }

    return page_row(
        context,
        path="/experiments/",
        email=ANALYST,
        answer=answer,
        floor=floor,
        note="floor: both lists' first pages, 1 query (not the metrics)",
    )
