"""List filters, validated by the serializers in `serializers.py` (a bad value
is a 400 naming the parameter; unknown parameters are ignored) and applied to
querysets that already come from the visibility selector."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone
from rest_framework import serializers

from proposals.models import Experiment, Outcome, Proposal
from proposals.selectors import search_proposals


def validated(serializer_class: type[serializers.Serializer], params: Any) -> dict[str, Any]:
    # Query strings can repeat a parameter; the first value counts.
    data = {name: params.get(name) for name in serializer_class().fields if name in params}
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def settled(queryset: QuerySet[Any]) -> QuerySet[Any]:
    """Only rows whose change is older than the settling lag (SPEC §6).

    `updated_at` is stamped inside a transaction that may commit later than a
    transaction stamped after it. A client that pages up to "now" could then
    move its `updated_after` past a row that commits a moment later, and never
    see it. Holding back the last API_SETTLING_LAG_SECONDS means every row the
    feed could still receive is already committed when the feed reaches it, as
    long as transactions commit within that lag (ours take milliseconds).
    """
    lag = settings.API_SETTLING_LAG_SECONDS
    return queryset.filter(updated_at__lte=timezone.now() - dt.timedelta(seconds=lag))


def filter_proposals(queryset: QuerySet[Proposal], filters: dict[str, Any]) -> QuerySet[Proposal]:
    if "status" in filters:
        queryset = queryset.filter(status=filters["status"])
    if "department" in filters:
        queryset = queryset.filter(department__slug=filters["department"])
    if "theme" in filters:
        queryset = queryset.filter(
            Exists(
                Proposal.themes.through.objects.filter(
                    proposal_id=OuterRef("pk"), theme__slug=filters["theme"]
                )
            )
        )
    if "updated_after" in filters:
        queryset = queryset.filter(updated_at__gt=filters["updated_after"])
    if filters.get("search", "").strip():
        queryset = search_proposals(queryset, filters["search"])
    return queryset


def filter_experiments(
    queryset: QuerySet[Experiment], filters: dict[str, Any]
) -> QuerySet[Experiment]:
    if "status" in filters:
        queryset = queryset.filter(status=filters["status"])
    if "proposal" in filters:
        queryset = queryset.filter(proposal__reference=filters["proposal"].upper())
    if "updated_after" in filters:
        queryset = queryset.filter(updated_at__gt=filters["updated_after"])
    return queryset


def filter_outcomes(queryset: QuerySet[Outcome], filters: dict[str, Any]) -> QuerySet[Outcome]:
    if "result" in filters:
        queryset = queryset.filter(result=filters["result"])
    if "updated_after" in filters:
        queryset = queryset.filter(updated_at__gt=filters["updated_after"])
    return queryset
