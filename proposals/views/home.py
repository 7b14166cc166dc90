"""Your home: your proposals, what waits for you, and unread notifications."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from accounts.models import REVIEW_ROLES, User
from proposals import selectors
from proposals.enums import Status
from proposals.models import Assessment, Notification
from proposals.views._common import user_of

# Your newest proposals on the home page; the rest are a search away (Find, "mine").
HOME_PROPOSALS = 20
# "More than 1,000 proposals waiting for triage": the triage page has the rest.
TRIAGE_COUNT_CAP = 1_000


def assessments_to_do(user: User) -> QuerySet[Assessment]:
    """Your assessments still to submit, of proposals in review, oldest first: a
    walk of your pending ones (`assessment_open_idx`)."""
    return (
        Assessment.objects.filter(
            assessor_id=user.pk,
            submitted_at__isnull=True,
            proposal__status=Status.IN_REVIEW,
        )
        .exclude(conflict_declared=True)
        .select_related("proposal")
        .only("proposal__reference", "proposal__title")
        .order_by("created_at")
    )


def home(request: HttpRequest) -> HttpResponse:
    """The signed-in home page, in a fixed number of queries, each stopped by a
    LIMIT or a cap: the same cost for a new account and at a million proposals."""
    user = user_of(request)
    proposals = selectors.newest_authored(user, HOME_PROPOSALS + 1)
    more = len(proposals) > HOME_PROPOSALS
    proposals = proposals[:HOME_PROPOSALS]
    # The newest waiting for you; more information requested before drafts.
    waiting = sorted(
        selectors.newest_authored(user, 10, statuses=[Status.DRAFT, Status.MORE_INFO]),
        key=lambda p: p.status != Status.MORE_INFO,
    )
    triage_count = None
    if user.role in REVIEW_ROLES:
        # Counted up to the cap by the (department, status, …) index, never the
        # whole queue of a large department: past it the page says "more than".
        triage_count = (
            selectors.proposals_visible_to(user)
            .filter(department_id=user.department_id, status=Status.SUBMITTED)
            .order_by()
            .values("pk")[: TRIAGE_COUNT_CAP + 1]
            .count()
        )
    assessments = list(assessments_to_do(user)[:10])
    for assessment in assessments:
        assessment.href = reverse(  # type: ignore[attr-defined]
            "review:assess", args=[assessment.proposal.reference]
        )
    unread = Notification.objects.filter(recipient_id=user.pk, read_at__isnull=True).count()
    context = {
        "proposals": proposals,
        "more": more,
        "waiting": waiting,
        "triage_count": triage_count,
        "triage_capped": triage_count is not None and triage_count > TRIAGE_COUNT_CAP,
        "triage_cap": TRIAGE_COUNT_CAP,
        "assessments": assessments,
        "unread": unread,
    }
    return render(request, "home.html", context)
