"""The API's list filters: proposals and outcomes through the one FilterSet each
(`proposals.filters`, shared with the pages and reports), experiments through
`serializers.ExperimentFilters`. A bad value is a 400 naming the parameter;
unknown parameters are ignored; every queryset already comes from a selector."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers
from rest_framework.exceptions import ValidationError

from proposals.filters import DoorFilterSet, ZonedDateTimeField
from proposals.models import Experiment


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


def filtered(
    filterset_class: type[DoorFilterSet], queryset: QuerySet[Any], params: Any
) -> QuerySet[Any]:
    """A list's filters (`proposals.filters`, the same as the pages'), or a 400 whose
    field messages are the pages' messages."""
    filters = filterset_class(params, queryset=queryset)
    if not filters.is_valid():
        raise ValidationError(filters.messages())
    return filters.qs


def parameters(filterset_class: type[DoorFilterSet]) -> list[OpenApiParameter]:
    """The OpenAPI query parameters of a door, read from its FilterSet."""
    documented = []
    for name, filter_ in filterset_class.base_filters.items():
        field = filter_.field
        kind: Any = OpenApiTypes.DATETIME if isinstance(field, ZonedDateTimeField) else str
        choices: list[Any] = []
        # Slugs of rows are documented as text: listing them would query at import.
        if not isinstance(field, forms.ModelChoiceField | forms.ModelMultipleChoiceField):  # noqa: TID251 - any kind of model choice
            choices = [value for value, _ in getattr(field, "choices", ()) if value != ""]
        documented.append(
            OpenApiParameter(
                name,
                kind,
                OpenApiParameter.QUERY,
                required=False,
                description=str(field.help_text or filter_.label or ""),
                enum=choices or None,
            )
        )
    return documented


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
