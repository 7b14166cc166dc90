"""Requesting a report (SPEC §5): the row is written now, the worker builds it.

The API and the /reports/ page both call `report_request`. The build task
(`proposals.tasks.build_report`) is sent by name on commit, so this module
does not import the worker's code and a rolled-back request queues nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from celery import current_app
from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.models import User
from proposals import permissions as perms
from proposals.enums import ReportFormat, ReportKind
from proposals.models import Report
from proposals.services import ActionNotAllowed, audit

logger = logging.getLogger(__name__)

# The filters a report understands; each narrows what the requester may already see.
REPORT_FILTERS = ("status", "department", "theme", "updated_after", "search")


def _enqueue(report_id: str) -> None:
    try:
        current_app.send_task(
            "proposals.tasks.build_report", kwargs={"report_id": report_id}, queue="reports"
        )
    except Exception:  # the broker being down must not undo a committed request
        logger.warning("Could not queue report %s; it stays queued for a retry", report_id)


@transaction.atomic
def report_request(
    *, user: User, kind: str, format: str, filters: Mapping[str, Any] | None = None
) -> Report:
    """A queued report for `user`; the worker builds it from what they may see."""
    if not perms.can_request_reports(user):
        raise ActionNotAllowed("Only portfolio leads and analysts can request reports")
    errors: dict[str, list[str]] = {}
    if kind not in ReportKind.values:
        errors["kind"] = ["Select the kind of report"]
    if format not in ReportFormat.values:
        errors["format"] = ["Select CSV, ODS or JSON"]
    clean: dict[str, str] = {}
    for name, value in (filters or {}).items():
        if name not in REPORT_FILTERS:
            errors[f"filters.{name}"] = [f"Unknown filter; use {', '.join(REPORT_FILTERS)}"]
        elif value not in (None, ""):
            clean[name] = str(value)[:200]
    if errors:
        raise ValidationError(errors)
    report = Report.objects.create(requested_by=user, kind=kind, format=format, filters=clean)
    audit(
        actor=user,
        action="request_report",
        obj=report,
        department=user.department,
        changes={"kind": (None, kind), "format": (None, format)},
    )
    report_id = str(report.pk)
    transaction.on_commit(lambda: _enqueue(report_id), robust=True)
    return report
