"""Report requests: recorded with the change, built by a worker once committed."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from proposals import dispatch
from proposals import permissions as perms
from proposals.enums import ReportFormat, ReportKind, ReportStatus
from proposals.exceptions import ActionNotAllowed, InvalidTransition
from proposals.models import Report
from proposals.reports import CANCELLED, clean_filters
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


# Everything a new build starts from: the report is as if just requested.
_FRESH = {
    "status": ReportStatus.QUEUED,
    "attempts": 0,
    "progress": 0,
    "row_count": 0,
    "error": "",
    "started_at": None,
    "heartbeat_at": None,
    "finished_at": None,
    "unpublished": False,
}


@transaction.atomic
def report_retry(*, report: Report, actor: User, on_behalf: bool = False) -> Report:
    """Build a failed report again: by its requester (the reports page) or an operator
    (the admin, `on_behalf`). Conditional on `failed`, so a double click queues it once."""
    if not on_behalf and (
        report.requested_by_id != actor.pk or not perms.can_request_reports(actor)
    ):
        raise ActionNotAllowed("Only the person who requested this report can try it again")
    if not Report.objects.filter(pk=report.pk, status=ReportStatus.FAILED).update(**_FRESH):
        raise InvalidTransition("Only a report that failed can be tried again")
    audit(
        actor=actor,
        action="retry_report",
        obj=report,
        department=report.requested_by.department,
        changes={"status": (ReportStatus.FAILED, ReportStatus.QUEUED)},
    )
    dispatch.send_on_commit(dispatch.BUILD_REPORT, "report_id", [str(report.pk)])
    report.refresh_from_db()
    return report


@transaction.atomic
def report_cancel(*, report: Report, actor: User) -> bool:
    """An operator stops a queued or running report (the admin). A build in progress
    notices at its next step of progress and writes nothing. False if it had finished."""
    before = report.status
    cancelled = Report.objects.filter(
        pk=report.pk, status__in=[ReportStatus.QUEUED, ReportStatus.RUNNING]
    ).update(status=ReportStatus.FAILED, error=CANCELLED, finished_at=timezone.now())
    if cancelled:
        audit(
            actor=actor,
            action="cancel_report",
            obj=report,
            department=report.requested_by.department,
            changes={"status": (before, ReportStatus.FAILED)},
        )
    return bool(cancelled)
