"""The API's representations, built from `.values()` rows and a fixed number of
queries per page: no model instance and no per-row query, whatever the page
size. The serializers in `serializers.py` describe these shapes for the
OpenAPI schema; tests check the two agree.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import OuterRef, QuerySet
from django.utils import timezone

from accounts.models import Department
from proposals.models import (
    Assessment,
    Challenge,
    Criterion,
    Decision,
    Experiment,
    Metric,
    MetricActual,
    Outcome,
    Proposal,
    Report,
    Score,
    Theme,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from proposals.webhooks import signing_secrets

UTC = dt.UTC

PROPOSAL_VALUES = (
    "id",
    "reference",
    "title",
    "summary",
    "problem",
    "who_has_the_problem",
    "proposed_solution",
    "expected_benefits",
    "cost_band",
    "estimated_benefit_gbp",
    "hours_saved_per_year",
    "department__slug",
    "department__name",
    "department__acronym",
    "challenge__slug",
    "merged_into__reference",
    "status",
    "visibility",
    "created_at",
    "updated_at",
    "submitted_at",
    "decided_at",
)


def iso(value: dt.datetime | dt.date | None) -> str | None:
    """ISO 8601; datetimes in UTC with a `Z`."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return value.isoformat()


def dec(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _slugs_by_proposal(through: Any, ids: Sequence[Any], column: str) -> dict[Any, list[str]]:
    out: dict[Any, list[str]] = defaultdict(list)
    if ids:
        rows = (
            through.objects.filter(proposal_id__in=ids)
            .order_by(column)
            .values_list("proposal_id", column)
        )
        for proposal_id, slug in rows:
            out[proposal_id].append(slug)
    return out


def proposal_values(queryset: QuerySet[Proposal]) -> Any:
    """The columns of a proposal row. On PostgreSQL the theme and collaborating
    department slugs come in the same query, as arrays from correlated
    subqueries on the (indexed) link tables; elsewhere `shape_proposals` adds
    them with one query each for the whole page."""
    values = queryset.values(*PROPOSAL_VALUES)
    if not settings.IS_POSTGRES:
        return values

    themes = Proposal.themes.through.objects.filter(proposal_id=OuterRef("id"))
    departments = Proposal.collaborating_departments.through.objects.filter(
        proposal_id=OuterRef("id")
    )
    return values.annotate(
        theme_slugs=ArraySubquery(themes.order_by("theme__slug").values("theme__slug")),
        collaborating_slugs=ArraySubquery(
            departments.order_by("department__slug").values("department__slug")
        ),
    )


def proposal_rows(queryset: QuerySet[Proposal]) -> list[dict[str, Any]]:
    return shape_proposals([dict(row) for row in proposal_values(queryset)])


def shape_proposals(raw: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if raw and "theme_slugs" in raw[0]:
        themes = {row["id"]: row["theme_slugs"] for row in raw}
        collaborating = {row["id"]: row["collaborating_slugs"] for row in raw}
    else:
        ids = [row["id"] for row in raw]
        themes = _slugs_by_proposal(Proposal.themes.through, ids, "theme__slug")
        collaborating = _slugs_by_proposal(
            Proposal.collaborating_departments.through, ids, "department__slug"
        )
    site = settings.SITE_URL
    out = []
    for row in raw:
        pk = row["id"]
        out.append(
            {
                "id": str(pk),
                "reference": row["reference"],
                "title": row["title"],
                "summary": row["summary"],
                "problem": row["problem"],
                "who_has_the_problem": row["who_has_the_problem"],
                "proposed_solution": row["proposed_solution"],
                "expected_benefits": row["expected_benefits"],
                "cost_band": row["cost_band"],
                "estimated_benefit_gbp": row["estimated_benefit_gbp"],
                "hours_saved_per_year": row["hours_saved_per_year"],
                "department": {
                    "slug": row["department__slug"],
                    "name": row["department__name"],
                    "acronym": row["department__acronym"],
                },
                "collaborating_departments": collaborating.get(pk, []),
                "themes": themes.get(pk, []),
                "challenge": row["challenge__slug"],
                "merged_into": row["merged_into__reference"],
                "status": row["status"],
                "visibility": row["visibility"],
                "created_at": iso(row["created_at"]),
                "updated_at": iso(row["updated_at"]),
                "submitted_at": iso(row["submitted_at"]),
                "decided_at": iso(row["decided_at"]),
                "url": f"{site}/proposals/{row['reference']}/",
            }
        )
    return out


# --- experiments and outcomes --------------------------------------------------------

EXPERIMENT_VALUES = (
    "id",
    "proposal__reference",
    "title",
    "we_believe",
    "will_result_in",
    "we_will_know_when",
    "lead__full_name",
    "starts_on",
    "ends_on",
    "budget_gbp",
    "status",
    "started_at",
    "stopped_at",
    "created_at",
    "updated_at",
)


def experiment_rows(queryset: QuerySet[Experiment]) -> list[dict[str, Any]]:
    raw = list(queryset.values(*EXPERIMENT_VALUES))
    metrics: dict[int, list[dict[str, Any]]] = defaultdict(list)
    if raw:
        for m in Metric.objects.filter(experiment_id__in=[r["id"] for r in raw]).values(
            "id", "experiment_id", "name", "unit", "baseline", "target", "direction"
        ):
            metrics[m["experiment_id"]].append(
                {
                    "id": m["id"],
                    "name": m["name"],
                    "unit": m["unit"],
                    "baseline": dec(m["baseline"]),
                    "target": dec(m["target"]),
                    "direction": m["direction"],
                }
            )
    return [
        {
            "id": r["id"],
            "proposal": r["proposal__reference"],
            "title": r["title"],
            "we_believe": r["we_believe"],
            "will_result_in": r["will_result_in"],
            "we_will_know_when": r["we_will_know_when"],
            "lead": r["lead__full_name"],
            "starts_on": iso(r["starts_on"]),
            "ends_on": iso(r["ends_on"]),
            "budget_gbp": r["budget_gbp"],
            "status": r["status"],
            "started_at": iso(r["started_at"]),
            "stopped_at": iso(r["stopped_at"]),
            "created_at": iso(r["created_at"]),
            "updated_at": iso(r["updated_at"]),
            "metrics": metrics.get(r["id"], []),
        }
        for r in raw
    ]


OUTCOME_VALUES = (
    "id",
    "experiment_id",
    "experiment__title",
    "experiment__proposal__reference",
    "result",
    "lessons",
    "recommendation",
    "realised_benefit_gbp",
    "published",
    "published_at",
    "created_at",
    "updated_at",
)


def outcome_rows(queryset: QuerySet[Outcome]) -> list[dict[str, Any]]:
    raw = list(queryset.values(*OUTCOME_VALUES))
    actuals: dict[int, list[dict[str, Any]]] = defaultdict(list)
    if raw:
        for a in (
            MetricActual.objects.filter(outcome_id__in=[r["id"] for r in raw])
            .order_by("metric_id")
            .values(
                "outcome_id",
                "metric_id",
                "metric__name",
                "metric__unit",
                "metric__baseline",
                "metric__target",
                "metric__direction",
                "value",
            )
        ):
            actuals[a["outcome_id"]].append(
                {
                    "metric": a["metric_id"],
                    "name": a["metric__name"],
                    "unit": a["metric__unit"],
                    "baseline": dec(a["metric__baseline"]),
                    "target": dec(a["metric__target"]),
                    "direction": a["metric__direction"],
                    "actual": dec(a["value"]),
                }
            )
    return [
        {
            "id": r["id"],
            "experiment": r["experiment_id"],
            "experiment_title": r["experiment__title"],
            "proposal": r["experiment__proposal__reference"],
            "result": r["result"],
            "lessons": r["lessons"],
            "recommendation": r["recommendation"],
            "realised_benefit_gbp": r["realised_benefit_gbp"],
            "published": r["published"],
            "published_at": iso(r["published_at"]),
            "created_at": iso(r["created_at"]),
            "updated_at": iso(r["updated_at"]),
            "metric_actuals": actuals.get(r["id"], []),
        }
        for r in raw
    ]


# --- the nested parts of a proposal's detail -----------------------------------------------


def decision_row(decisions: QuerySet[Decision]) -> dict[str, Any] | None:
    """The newest of these decisions (the ones the caller may read: selectors)."""
    decision = (
        decisions.order_by("-created_at", "-id")
        .values("kind", "rationale", "decided_by__full_name", "created_at")
        .first()
    )
    if decision is None:
        return None
    return {
        "kind": decision["kind"],
        "rationale": decision["rationale"],
        "decided_by": decision["decided_by__full_name"],
        "decided_at": iso(decision["created_at"]),
    }


def assessment_rows(assessments: QuerySet[Assessment]) -> list[dict[str, Any]]:
    raw = list(
        assessments.order_by("created_at", "id").values(
            "id",
            "assessor__full_name",
            "conflict_declared",
            "conflict_details",
            "recommendation",
            "comment",
            "weighted_score",
            "submitted_at",
        )
    )
    scores: dict[int, list[dict[str, Any]]] = defaultdict(list)
    if raw:
        for s in (
            Score.objects.filter(assessment_id__in=[r["id"] for r in raw])
            .order_by("criterion__position", "criterion_id")
            .values("assessment_id", "criterion_id", "criterion__name", "score", "comment")
        ):
            scores[s["assessment_id"]].append(
                {
                    "criterion": s["criterion_id"],
                    "criterion_name": s["criterion__name"],
                    "score": s["score"],
                    "comment": s["comment"],
                }
            )
    return [
        {
            "id": r["id"],
            "assessor": r["assessor__full_name"],
            "conflict_declared": r["conflict_declared"],
            "conflict_details": r["conflict_details"],
            "recommendation": r["recommendation"],
            "comment": r["comment"],
            "weighted_score": dec(r["weighted_score"]),
            "submitted_at": iso(r["submitted_at"]),
            "scores": scores.get(r["id"], []),
        }
        for r in raw
    ]


# --- reference data, reports, webhooks ----------------------------------------------------------


def department_rows(queryset: QuerySet[Department]) -> list[dict[str, Any]]:
    return [
        {
            "slug": d["slug"],
            "name": d["name"],
            "acronym": d["acronym"],
            "parent": d["parent__slug"],
        }
        for d in queryset.values("slug", "name", "acronym", "parent__slug")
    ]


def criterion_rows(queryset: QuerySet[Criterion]) -> list[dict[str, Any]]:
    return [
        {
            "id": c["id"],
            "name": c["name"],
            "description": c["description"],
            "weight": dec(c["weight"]),
            "position": c["position"],
        }
        for c in queryset.values("id", "name", "description", "weight", "position")
    ]


def theme_rows(queryset: QuerySet[Theme]) -> list[dict[str, Any]]:
    return [dict(row) for row in queryset.values("slug", "name", "description")]


def challenge_rows(queryset: QuerySet[Challenge]) -> list[dict[str, Any]]:
    raw = list(
        queryset.values(
            "id",
            "slug",
            "title",
            "question",
            "department__slug",
            "opens_on",
            "closes_on",
            "closed_at",
        )
    )
    themes: dict[int, list[str]] = defaultdict(list)
    if raw:
        for challenge_id, slug in (
            Challenge.themes.through.objects.filter(challenge_id__in=[r["id"] for r in raw])
            .order_by("theme__slug")
            .values_list("challenge_id", "theme__slug")
        ):
            themes[challenge_id].append(slug)

    today = timezone.localdate()
    return [
        {
            "slug": r["slug"],
            "title": r["title"],
            "question": r["question"],
            "department": r["department__slug"],
            "themes": themes.get(r["id"], []),
            "opens_on": iso(r["opens_on"]),
            "closes_on": iso(r["closes_on"]),
            "is_open": r["closed_at"] is None and r["opens_on"] <= today <= r["closes_on"],
        }
        for r in raw
    ]


def report_row(report: Report, download_url: str | None) -> dict[str, Any]:
    return {
        "id": str(report.pk),
        "kind": report.kind,
        "format": report.format,
        "filters": report.filters,
        "status": report.status,
        "progress": report.progress,
        "row_count": report.row_count,
        "error": report.error,
        "created_at": iso(report.created_at),
        "started_at": iso(report.started_at),
        "finished_at": iso(report.finished_at),
        "expires_at": iso(report.expires_at),
        "download_url": download_url,
    }


def webhook_row(endpoint: WebhookEndpoint, *, secret: bool = False) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": endpoint.pk,
        "url": endpoint.url,
        "events": list(endpoint.events),
        "active": endpoint.active,
        "created_at": iso(endpoint.created_at),
        "previous_secret_valid_until": (
            iso(endpoint.previous_secret_expires_at) if len(signing_secrets(endpoint)) > 1 else None
        ),
    }
    if secret:
        row["secret"] = endpoint.secret
    return row


def delivery_rows(queryset: QuerySet[WebhookDelivery]) -> list[dict[str, Any]]:
    """Deliveries with every attempt of each: two queries, whatever the number of rows."""
    deliveries = list(
        queryset.values(
            "id",
            "event",
            "status",
            "attempts",
            "response_status",
            "last_error",
            "created_at",
            "delivered_at",
            "payload",
        )
    )
    tries: dict[Any, list[dict[str, Any]]] = {d["id"]: [] for d in deliveries}
    for a in (
        WebhookAttempt.objects.filter(delivery_id__in=list(tries))
        .order_by("delivery_id", "number")
        .values(
            "delivery_id",
            "number",
            "started_at",
            "finished_at",
            "outcome",
            "response_status",
            "error",
        )
    ):
        tries[a["delivery_id"]].append(
            {
                "number": a["number"],
                "started_at": iso(a["started_at"]),
                "finished_at": iso(a["finished_at"]),
                "outcome": a["outcome"],
                "response_status": a["response_status"],
                "error": a["error"],
            }
        )
    return [
        {
            "id": str(d["id"]),
            "event": d["event"],
            "status": d["status"],
            "attempts": d["attempts"],
            "response_status": d["response_status"],
            "last_error": d["last_error"],
            "created_at": iso(d["created_at"]),
            "delivered_at": iso(d["delivered_at"]),
            "payload": d["payload"],
            "attempt_log": tries[d["id"]],
        }
        for d in deliveries
    ]
