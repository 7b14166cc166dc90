"""Your home: your proposals, what waits for you, and unread notifications."""

from __future__ import annotations

from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from accounts.models import REVIEW_ROLES
from proposals import selectors
from proposals.enums import Status
from proposals.models import Assessment, Notification, Proposal
from proposals.views._common import user_of

# Your newest proposals on the home page; the rest are a search away (Find, "mine").
HOME_PROPOSALS = 20


def home(request: HttpRequest) -> HttpResponse:
    """The signed-in home page, in a fixed number of queries."""
    user = user_of(request)
    co_authored = Proposal.co_authors.through.objects.filter(user_id=user.pk)
    mine = (
        selectors.proposals_visible_to(user)
        .filter(Q(submitter_id=user.pk) | Q(pk__in=co_authored.values("proposal_id")))
        .only("reference", "title", "status", "updated_at")
        .order_by("-updated_at")
    )
    proposals = list(mine[: HOME_PROPOSALS + 1])
    more = len(proposals) > HOME_PROPOSALS
    proposals = proposals[:HOME_PROPOSALS]
    # Newest first, so the query walks the updated_at index; then more
    # information requested before drafts.
    waiting = sorted(
        mine.filter(status__in=[Status.DRAFT, Status.MORE_INFO])[:10],
        key=lambda p: p.status != Status.MORE_INFO,
    )
    triage_count = None
    if user.role in REVIEW_ROLES:
        triage_count = (
            selectors.proposals_visible_to(user)
            .filter(department_id=user.department_id, status=Status.SUBMITTED)
            .count()
        )
    assessments = list(
        Assessment.objects.filter(
            assessor_id=user.pk,
            submitted_at__isnull=True,
            proposal__status=Status.IN_REVIEW,
        )
        .exclude(conflict_declared=True)
        .select_related("proposal")
        .only("proposal__reference", "proposal__title")
        .order_by("created_at")[:10]
    )
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
        "assessments": assessments,
        "unread": unread,
    }
    return render(request, "home.html", context)
