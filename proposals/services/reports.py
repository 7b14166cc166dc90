"""Report requests: recorded with the change, built by a worker once committed."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.models import User
from proposals import dispatch
from proposals import permissions as perms
from proposals.enums import ReportFormat, ReportKind
from proposals.exceptions import ActionNotAllowed
from proposals.models import Report
from proposals.reports import clean_filters
from proposals.services.base import audit


@transaction.atomic
def report_request(
    *, user: User, kind: str, format: str, filters: Mapping[str, Any] | None = None
) -> Report:
    """Record a report request and queue its build on the `reports` queue once committed."""
    if not perms.can_request_reports(user):
        raise ActionNotAllowed("Only portfolio leads and analysts can request reports")
    errors: dict[str, list[str]] = {}
    if kind not in ReportKind.values:
        errors["kind"] = ["Select the kind of report"]
    if format not in ReportFormat.values:
        errors["format"] = ["Select a format"]
    try:
        cleaned = clean_filters(filters)
    except ValidationError as error:
        errors |= error.message_dict
        cleaned = {}
    if errors:
        raise ValidationError(errors)
    report = Report.objects.create(requested_by=user, kind=kind, format=format, filters=cleaned)
    audit(
        actor=user,
        action="request_report",
        obj=report,
        department=user.department,
        changes={"kind": (None, kind), "format": (None, format)},
    )
    report_id = str(report.pk)
    dispatch.send_on_commit(dispatch.BUILD_REPORT, "report_id", [report_id])
    return report
