"""Challenges, calls for ideas: anyone proposes answers; leads open and close them."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone

from accounts.models import User
from proposals import permissions as perms
from proposals import selectors, services
from proposals.forms.challenges import ChallengeForm
from proposals.forms.common import add_service_errors
from proposals.models import Challenge
from proposals.views._common import user_of


def _with_counts(user: User) -> QuerySet[Challenge]:
    visible = selectors.proposals_visible_to(user)
    return (
        Challenge.objects.select_related("department")
        .prefetch_related("themes")
        .annotate(
            answers=Count("proposals", filter=Q(proposals__in=visible.values("pk")), distinct=True)
        )
    )


@login_required
def challenge_list(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    # No counts of answers here: counting what each viewer may see of every
    # challenge's proposals scans them all; the challenge's own page counts its own.
    challenges = list(
        Challenge.objects.select_related("department")
        .prefetch_related("themes")
        .order_by("closes_on", "title")
    )
    open_now = [c for c in challenges if c.closed_at is None and c.opens_on <= today <= c.closes_on]
    upcoming = [c for c in challenges if c.closed_at is None and c.opens_on > today]
    closed = [c for c in challenges if c.closed_at is not None or c.closes_on < today]
    closed.sort(key=lambda c: c.closes_on, reverse=True)
    context = {
        "open_challenges": open_now,
        "upcoming": upcoming,
        "closed": closed,
        "can_create": perms.can_manage_challenges(user_of(request), user_of(request).department),
    }
    return render(request, "challenges/list.html", context)


@login_required
def challenge_detail(request: HttpRequest, slug: str) -> HttpResponse:
    challenge = get_object_or_404(_with_counts(user_of(request)), slug=slug)
    answers = list(
        selectors.proposals_visible_to(user_of(request))
        .filter(challenge=challenge)
        .exclude(status="draft")
        .select_related("department")
        .order_by("-created_at")[:50]
    )
    context = {
        "challenge": challenge,
        "answers": answers,
        "can_close": challenge.closed_at is None
        and perms.can_manage_challenges(user_of(request), challenge.department),
    }
    return render(request, "challenges/detail.html", context)


@login_required
def challenge_new(request: HttpRequest) -> HttpResponse:
    user = user_of(request)
    if not perms.can_manage_challenges(user, user.department):
        raise PermissionDenied("Only a portfolio lead can open a challenge")
    form = ChallengeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            challenge = services.challenge_create(actor=user, data=form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Your challenge “{challenge.title}” has been published")
            return redirect("challenges:detail", slug=challenge.slug)
    return render(
        request, "challenges/new.html", {"form": form}, status=400 if form.errors else 200
    )


@login_required
def challenge_close(request: HttpRequest, slug: str) -> HttpResponse:
    challenge = get_object_or_404(Challenge.objects.select_related("department"), slug=slug)
    if not perms.can_manage_challenges(user_of(request), challenge.department):
        raise PermissionDenied("Only the challenge's department lead can close it")
    if request.method == "POST":
        services.challenge_close(challenge=challenge, actor=user_of(request))
        messages.success(request, f"“{challenge.title}” is closed and takes no new proposals")
        return redirect("challenges:detail", slug=challenge.slug)
    return render(request, "challenges/close.html", {"challenge": challenge})
