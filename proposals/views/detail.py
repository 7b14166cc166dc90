"""The proposal page: answers, status, timeline, decision, experiments and outcomes,
comments and support, and exactly the actions this user may take now."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Exists, OuterRef, Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_POST

from proposals import dashboards, selectors, services, similarity, workflow
from proposals import permissions as perms
from proposals.enums import DecisionKind
from proposals.forms.common import add_service_errors
from proposals.forms.propose import CommentForm, SupportForm
from proposals.models import Comment, Follow, Metric, Proposal, Support
from proposals.views._common import guard, user_of
from proposals.views.propose import STEPS, answer_rows

# The page that performs each workflow action (the page conventions' map). A URL
# name another branch has not added yet is skipped.
ACTION_URLS = {
    "submit": "proposals:check_answers",
    "resubmit": "proposals:resubmit",
    "withdraw": "proposals:withdraw",
    "accept": "review:triage",
    "request_info": "review:triage",
    "reject_at_triage": "review:triage",
    "approve": "review:decide",
    "reject": "review:decide",
    "merge": "review:merge",
    "close": "review:close",
}
# Link words where the button's own label would mislead (it is on the next page).
ACTION_LINK_TEXT = {"submit": "Check your answers and submit"}

# How each audit event reads in the timeline.
TIMELINE_TEXT = {
    "create": "Started the draft",
    "edit": "Changed the answers",
    "submit": "Submitted the proposal",
    "resubmit": "Resubmitted the proposal with more information",
    "withdraw": "Withdrew the proposal",
    "accept": "Accepted the proposal for review",
    "request_info": "Asked for more information",
    "reject_at_triage": "Rejected the proposal at triage",
    "approve": "Approved the proposal",
    "reject": "Rejected the proposal",
    "merge": "Merged the proposal into another",
    "merge_in": "Merged another proposal into this one",
    "start_experiment": "Started an experiment",
    "close": "Closed the proposal",
    "comment": "Commented",
    "edit_comment": "Edited a comment",
    "support": "Supported the proposal",
    "unsupport": "Withdrew their support",
    "attach": "Attached a file",
    "detach": "Removed a file",
    "assign": "Assigned an assessor",
    "release_feedback": "Released the assessors’ feedback",
    "follow": "Followed the proposal",
    "unfollow": "Stopped following the proposal",
}


def _action_links(user: Any, proposal: Proposal) -> list[dict[str, str]]:
    links: list[dict[str, str]] = []
    for transition in workflow.available_actions(user, proposal):
        name = ACTION_URLS.get(transition.action)
        if name is None:
            continue
        try:
            href = reverse(name, args=[proposal.reference])
        except NoReverseMatch:
            continue
        text = ACTION_LINK_TEXT.get(transition.action, transition.label)
        if not any(link["href"] == href for link in links):
            links.append({"href": href, "text": text, "action": transition.action})
    return links


def _timeline(user: Any, proposal: Proposal) -> list[dict[str, Any]]:
    events = []
    for event in selectors.timeline_for(user, proposal):
        detail = ""
        changes = event.changes or {}
        if event.action == "merge" and "merged_into" in changes:
            detail = f"into {changes['merged_into'][1]}"
        elif event.action == "merge_in" and "merged_from" in changes:
            detail = f"{changes['merged_from'][1]} was merged into this proposal"
        elif event.action in {"attach", "detach"} and "file" in changes:
            detail = changes["file"][0] or changes["file"][1] or ""
        elif event.action == "edit":
            detail = ", ".join(name.replace("_", " ") for name in sorted(changes))
        events.append(
            {
                "when": event.created_at,
                "who": event.actor.full_name if event.actor else "The service",
                "text": TIMELINE_TEXT.get(
                    event.action, event.action.replace("_", " ").capitalize()
                ),
                "detail": detail,
            }
        )
    return events


def proposal_context(request: HttpRequest, proposal: Proposal, **extra: Any) -> dict[str, Any]:
    """Everything the page shows, in a fixed number of queries whatever its size."""
    user = user_of(request)
    decisions = list(selectors.decisions_visible_to(user, proposal).select_related("decided_by"))
    decision = next((d for d in decisions if d.kind in selectors.FINAL_DECISIONS), None)
    request_for_info = next((d for d in decisions if d.kind == DecisionKind.MORE_INFO), None)
    experiments = list(
        selectors.experiments_visible_to(user)
        .filter(proposal=proposal)
        .select_related("lead")
        .prefetch_related(
            Prefetch("metrics", queryset=Metric.objects.select_related("actual").order_by("id"))
        )
    )
    outcomes = selectors.outcomes_of(user, proposal)
    # One query for the support count, yours, and whether you follow it. The count
    # is the trigger-kept column (migration 0009), exact and read from the row:
    # counting a popular proposal's supports would grow with them.
    support = (
        Proposal.objects.filter(pk=proposal.pk)
        .annotate(
            mine=Exists(Support.objects.filter(proposal=OuterRef("pk"), user_id=user.pk)),
            following=Exists(Follow.objects.filter(proposal=OuterRef("pk"), user_id=user.pk)),
        )
        .values("support_count", "mine", "following")
        .get()
    )
    following = bool(support["following"])
    comments = list(Comment.objects.filter(proposal=proposal).select_related("author__department"))
    for comment in comments:
        # For the template's "Change" link.
        comment.editable = perms.can_edit_comment(user, comment)  # type: ignore[attr-defined]
    is_author = perms.is_author(user, proposal)
    context = {
        "adopted_from": dashboards.adopted_from(user, proposal),
        "adopted": dashboards.adoptions_of_proposal(user, proposal),
        "proposal": proposal,
        "rows": answer_rows(proposal, editable=False),
        "files": list(proposal.attachments.all()),
        "timeline": _timeline(user, proposal),
        "decision": decision,
        "request_for_info": request_for_info,
        "experiments": [
            {"experiment": e, "metrics": list(e.metrics.all()), "outcome": outcomes.get(e.pk)}
            for e in experiments
        ],
        "comments": comments,
        "support_count": support["support_count"],
        "supported": bool(support["mine"]),
        # Every button from the rules table (workflow.may), never from a copied state set.
        "can_support": workflow.may(user, "support", proposal),
        "can_follow": workflow.may(user, "follow", proposal),
        "following": following,
        "can_comment": workflow.may(user, "comment", proposal),
        "can_edit": workflow.may(user, "edit", proposal),
        "can_delete": workflow.may(user, "delete", proposal),
        "can_propose_again": workflow.may(user, "propose_again", proposal),
        "is_author": is_author,
        "edit_url": reverse("proposals:edit", args=[proposal.reference, STEPS[0].slug]),
        "actions": _action_links(user, proposal),
        "comment_form": CommentForm(),
        "support_form": SupportForm(auto_id="id_support_%s"),
        "user": user,
        "related": similarity.similar_to_proposal(user, proposal),
    }
    context.update(extra)
    return context


@login_required
def detail(request: HttpRequest, reference: str) -> HttpResponse:
    proposal = selectors.proposal_for(user_of(request), reference)
    if proposal.reference != reference:
        # dfe-2026-0042 and DFE-2026-0042 are the same proposal; one address for it.
        return redirect(proposal.get_absolute_url())
    return render(request, "proposals/detail.html", proposal_context(request, proposal))


@login_required
@require_POST
def comment_add(request: HttpRequest, reference: str) -> HttpResponse:
    proposal = selectors.proposal_for(user_of(request), reference)
    refused = guard(request, "comment", proposal)
    if refused is not None:
        return refused
    form = CommentForm(request.POST)
    if form.is_valid():
        try:
            services.comment_add(
                proposal=proposal,
                author=user_of(request),
                body=form.cleaned_data["body"],
                follow=form.cleaned_data["follow"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Your comment has been added")
            return redirect(f"{proposal.get_absolute_url()}#comments")
    context = proposal_context(request, proposal, comment_form=form, form=form)
    return render(request, "proposals/detail.html", context, status=400)


@login_required
def comment_edit(request: HttpRequest, reference: str, pk: int) -> HttpResponse:
    proposal = selectors.proposal_for(user_of(request), reference)
    comment = get_object_or_404(Comment, pk=pk, proposal=proposal)
    if not perms.can_edit_comment(user_of(request), comment):
        raise PermissionDenied(perms.COMMENT_EDIT_REFUSED)
    form = CommentForm(initial={"body": comment.body})
    form.fields["body"].label = "Your comment"
    if request.method == "POST":
        form = CommentForm(request.POST)
        form.fields["body"].label = "Your comment"
        if form.is_valid():
            try:
                services.comment_edit(
                    comment=comment, author=user_of(request), body=form.cleaned_data["body"]
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, "Your comment has been changed")
                return redirect(f"{proposal.get_absolute_url()}#comments")
    return render(
        request,
        "proposals/comment_edit.html",
        {
            "proposal": proposal,
            "comment": comment,
            "form": form,
            "edit_minutes": perms.COMMENT_EDIT_MINUTES,
        },
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def support(request: HttpRequest, reference: str) -> HttpResponse:
    proposal = selectors.proposal_for(user_of(request), reference)
    refused = guard(request, "support", proposal)
    if refused is not None:
        return refused
    form = SupportForm(request.POST)
    follow = form.is_valid() and form.cleaned_data["follow"]
    services.support_add(proposal=proposal, user=user_of(request), follow=follow)
    messages.success(
        request,
        f"You support {proposal.reference}"
        + (", and we will tell you what happens to it" if follow else ""),
    )
    return redirect(f"{proposal.get_absolute_url()}#support")


@login_required
@require_POST
def support_withdraw(request: HttpRequest, reference: str) -> HttpResponse:
    proposal = selectors.proposal_for(user_of(request), reference)
    services.support_remove(proposal=proposal, user=user_of(request))
    messages.success(request, f"You no longer support {proposal.reference}")
    return redirect(f"{proposal.get_absolute_url()}#support")


@login_required
@require_POST
def follow(request: HttpRequest, reference: str) -> HttpResponse:
    proposal = selectors.proposal_for(user_of(request), reference)
    refused = guard(request, "follow", proposal)
    if refused is not None:
        return refused
    services.follow_add(proposal=proposal, user=user_of(request))
    messages.success(request, f"You follow {proposal.reference}: we will tell you what happens")
    return redirect(f"{proposal.get_absolute_url()}#follow")


@login_required
@require_POST
def unfollow(request: HttpRequest, reference: str) -> HttpResponse:
    proposal = selectors.proposal_for(user_of(request), reference)
    services.follow_remove(proposal=proposal, user=user_of(request))
    messages.success(request, f"You no longer follow {proposal.reference}")
    return redirect(f"{proposal.get_absolute_url()}#follow")
