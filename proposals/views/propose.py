"""Propose an innovation: question pages, save as draft, attachments, check your
answers with similar proposals, submit, and the author's other actions (delete a
draft, withdraw, resubmit, propose again)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from proposals import permissions as perms
from proposals import selectors, services, similarity, workflow
from proposals.enums import DecisionKind, Status
from proposals.exceptions import Refused
from proposals.forms.common import add_service_errors
from proposals.forms.propose import (
    AboutForm,
    AttachmentForm,
    CoAuthorsForm,
    CostsForm,
    DetailsForm,
    ProblemForm,
    QuestionPage,
    SolutionForm,
    open_challenges,
)
from proposals.models import Attachment, Challenge, Proposal
from proposals.views._common import guard, refusal_page, user_of


@dataclass(frozen=True)
class Step:
    slug: str
    title: str
    form: type[QuestionPage]


STEPS = (
    Step("about", "About your idea", AboutForm),
    Step("problem", "The problem", ProblemForm),
    Step("solution", "Your idea and its benefits", SolutionForm),
    Step("costs", "Costs and benefits", CostsForm),
    Step("details", "Themes, partners and who can see it", DetailsForm),
    Step("co-authors", "Who else is working on this?", CoAuthorsForm),
)
STEP_BY_SLUG = {step.slug: step for step in STEPS}
# After the last question page: attachments, then check your answers.
ATTACHMENTS_STEP = "attachments"


def step_url(proposal: Proposal, slug: str) -> str:
    if slug == ATTACHMENTS_STEP:
        return reverse("proposals:attachments", args=[proposal.reference])
    return reverse("proposals:edit", args=[proposal.reference, slug])


def _next_url(proposal: Proposal, step: Step, back_to_check: bool) -> str:
    if back_to_check:
        return reverse("proposals:check_answers", args=[proposal.reference])
    index = STEPS.index(step)
    if index + 1 < len(STEPS):
        return step_url(proposal, STEPS[index + 1].slug)
    return step_url(proposal, ATTACHMENTS_STEP)


def _back_url(proposal: Proposal | None, step: Step, back_to_check: bool) -> str:
    if proposal is None:
        return reverse("home")
    if back_to_check:
        return reverse("proposals:check_answers", args=[proposal.reference])
    index = STEPS.index(step)
    if index == 0:
        return proposal.get_absolute_url()
    return step_url(proposal, STEPS[index - 1].slug)


def _editable(request: HttpRequest, reference: str) -> Proposal | HttpResponse:
    """The proposal if this user may edit it now: 404 if they cannot see it, 403 if
    they may never edit it, the 409 page if it is past editing."""
    proposal = selectors.proposal_for(user_of(request), reference)
    return guard(request, "edit", proposal) or proposal


def _form_kwargs(step: Step, request: HttpRequest, proposal: Proposal | None) -> dict[str, Any]:
    if step.form is DetailsForm:
        return {
            "department": user_of(request).department,
            "current_challenge_id": proposal.challenge_id if proposal else None,
        }
    if step.form is CoAuthorsForm and proposal is not None:
        actor = user_of(request)
        partner_ids = [d.pk for d in proposal.collaborating_departments.all()]

        def check(emails: list[str]) -> workflow.CoAuthorCheck:
            return workflow.check_co_authors(
                emails,
                actor=actor,
                submitter=proposal.submitter,
                department=proposal.department,
                collaborating_ids=partner_ids,
            )

        return {"check": check}
    return {}


def _question_page(request: HttpRequest, step: Step, proposal: Proposal | None) -> HttpResponse:
    back_to_check = request.GET.get("from") == "check" or request.POST.get("from") == "check"
    kwargs = _form_kwargs(step, request, proposal)
    action = request.POST.get("action", "continue")
    rearranged = step.form.rearranged(request.POST, action, **kwargs)
    if rearranged is not None:
        # Add another, Remove: the same page with a field more or fewer, nothing saved.
        form = rearranged
    elif request.method == "POST":
        # A submitted proposal keeps every answer it was submitted with: only a
        # draft may be saved with answers missing.
        is_draft = proposal is None or proposal.status == Status.DRAFT
        form = step.form(request.POST, require_answers=action != "draft" or not is_draft, **kwargs)
        if proposal is None and form.is_valid():
            # The call for ideas the draft answers: a closed one takes no new proposals.
            slug = form.cleaned_data.get("challenge") or ""
            chosen = Challenge.objects.filter(slug=slug).first() if slug else None
            for message in workflow.challenge_errors(chosen, None).get("challenge", []):
                form.add_error(None, message)
        if form.is_valid():
            data = form.service_data()
            try:
                if proposal is None:
                    challenge = (
                        open_challenges()
                        .filter(slug=form.cleaned_data.get("challenge") or "")
                        .first()
                    )
                    if challenge is not None:
                        data["challenge"] = challenge
                    proposal = services.proposal_create_draft(author=user_of(request), data=data)
                else:
                    proposal = services.proposal_update(
                        proposal=proposal,
                        actor=user_of(request),
                        data=data,
                    )
            except ValidationError as error:
                add_service_errors(form, error)
            except services.InvalidTransition as error:
                return refusal_page(
                    request, error, proposal.get_absolute_url() if proposal else "/"
                )
            else:
                if not perms.is_author(user_of(request), proposal):
                    # A co-author who took themselves off it can no longer see it.
                    messages.success(
                        request, f"You are no longer a co-author of {proposal.reference}"
                    )
                    return redirect("home")
                if action == "draft":
                    if proposal.status == Status.DRAFT:
                        message = (
                            f"Your draft {proposal.reference} has been saved. "
                            "You can come back to it from your home page."
                        )
                    else:
                        message = f"Your changes to {proposal.reference} have been saved"
                    messages.success(request, message)
                    return redirect(proposal.get_absolute_url())
                return redirect(_next_url(proposal, step, back_to_check))
    else:
        if proposal is None:
            initial: dict[str, Any] = {"challenge": request.GET.get("challenge", "")}
        else:
            initial = step.form.initial_from(proposal)
        form = step.form(initial=initial, **kwargs)
    challenge = None
    if proposal is None:
        slug = form["challenge"].value() if "challenge" in form.fields else ""
        challenge = open_challenges().filter(slug=slug or "").first()
    context = {
        "form": form,
        "step": step,
        "proposal": proposal,
        "challenge": challenge,
        "number": STEPS.index(step) + 1,
        "of": len(STEPS),
        "back_url": _back_url(proposal, step, back_to_check),
        "back_to_check": back_to_check,
        "is_draft": proposal is None or proposal.status == Status.DRAFT,
        # Right after the summary page, while the idea can still change course.
        "similar": similarity.similar_to_proposal(user_of(request), proposal)
        if proposal is not None and step is STEPS[1] and proposal.status == Status.DRAFT
        else None,
        "department_in_words": (
            workflow.department_in_words(proposal.department) if proposal else ""
        ),
    }
    return render(
        request, "proposals/question_page.html", context, status=400 if form.errors else 200
    )


def _propose_refusal(request: HttpRequest) -> HttpResponse | None:
    try:
        workflow.check_propose(user_of(request))
    except Refused as error:
        return refusal_page(request, error, reverse("home"))
    return None


@login_required
@never_cache
def new(request: HttpRequest) -> HttpResponse:
    """The first question page; Continue or Save as draft creates the draft and its reference."""
    workflow_refusal = _propose_refusal(request)
    if workflow_refusal is not None:
        return workflow_refusal
    return _question_page(request, STEPS[0], None)


@login_required
@never_cache
def edit(request: HttpRequest, reference: str, step: str) -> HttpResponse:
    if step not in STEP_BY_SLUG:
        raise Http404("No such question page")
    proposal = _editable(request, reference)
    if isinstance(proposal, HttpResponse):
        return proposal
    return _question_page(request, STEP_BY_SLUG[step], proposal)


@login_required
@never_cache
def attachments(request: HttpRequest, reference: str) -> HttpResponse:
    """Upload and remove files; Continue goes to check your answers."""
    proposal = _editable(request, reference)
    if isinstance(proposal, HttpResponse):
        return proposal
    form = AttachmentForm()
    if request.method == "POST":
        form = AttachmentForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data.get("file")
            if upload is None:
                if request.POST.get("action") == "upload":
                    form.add_error("file", "Select a file")
                else:
                    return redirect("proposals:check_answers", reference=proposal.reference)
            else:
                try:
                    attachment = services.attachment_add(
                        proposal=proposal,
                        actor=user_of(request),
                        upload=upload,
                    )
                except ValidationError as error:
                    add_service_errors(form, error)
                else:
                    messages.success(request, f"{attachment.original_name} has been uploaded")
                    return redirect("proposals:attachments", reference=proposal.reference)
    context = {
        "form": form,
        "proposal": proposal,
        "files": list(proposal.attachments.all()),
        "back_url": step_url(proposal, STEPS[-1].slug),
    }
    return render(
        request, "proposals/attachments.html", context, status=400 if form.errors else 200
    )


@login_required
@require_POST
def attachment_remove(request: HttpRequest, reference: str, pk: int) -> HttpResponse:
    proposal = _editable(request, reference)
    if isinstance(proposal, HttpResponse):
        return proposal
    attachment = get_object_or_404(Attachment, pk=pk, proposal=proposal)
    services.attachment_delete(attachment=attachment, actor=user_of(request))
    messages.success(request, f"{attachment.original_name} has been removed")
    return redirect("proposals:attachments", reference=proposal.reference)


@login_required
def attachment_download(request: HttpRequest, reference: str, pk: int) -> FileResponse:
    """Always a download, with the type found in its content, never shown in the page."""
    proposal = selectors.proposal_for(user_of(request), reference)
    attachment = get_object_or_404(Attachment, pk=pk, proposal=proposal)
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError:
        raise Http404("The file is missing") from None
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=attachment.original_name,
        content_type=attachment.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


# --- check your answers and submit -------------------------------------------------------


def answer_rows(proposal: Proposal, *, editable: bool) -> list[dict[str, Any]]:
    """The summary list of answers, with "Change" links back to their question pages."""
    themes = ", ".join(theme.name for theme in proposal.themes.all())
    partners = ", ".join(dept.name for dept in proposal.collaborating_departments.all())
    # Their emails only to the authors, who chose them by email; names to everyone else.
    co_authors = ", ".join(
        f"{user.full_name} ({user.email})" if editable else user.full_name
        for user in proposal.co_authors.all()
    )
    money = f"£{proposal.estimated_benefit_gbp:,}" if proposal.estimated_benefit_gbp else ""
    hours = f"{proposal.hours_saved_per_year:,}" if proposal.hours_saved_per_year else ""
    rows = [
        ("about", "title", "Title", proposal.title),
        ("about", "summary", "Summary", proposal.summary),
        ("problem", "problem", "What problem are you trying to solve?", proposal.problem),
        ("problem", "who_has_the_problem", "Who has this problem?", proposal.who_has_the_problem),
        ("solution", "proposed_solution", "What do you propose?", proposal.proposed_solution),
        (
            "solution",
            "expected_benefits",
            "What benefits do you expect?",
            proposal.expected_benefits,
        ),
        (
            "costs",
            "cost_band",
            "Estimated cost",
            proposal.get_cost_band_display() if proposal.cost_band else "",
        ),
        ("costs", "estimated_benefit_gbp", "Estimated benefit a year", money),
        ("costs", "hours_saved_per_year", "Hours saved a year", hours),
        ("details", "themes", "Themes", themes),
        ("details", "collaborating_departments", "Collaborating departments", partners),
        (
            "details",
            "challenge",
            "Challenge it answers",
            proposal.challenge.title if proposal.challenge else "",
        ),
        ("details", "visibility", "Who can see it", proposal.get_visibility_display()),
        ("co-authors", "co_author_0", "Co-authors", co_authors or "None"),
    ]
    result = []
    for slug, name, key, value in rows:
        row: dict[str, Any] = {"key": key, "value": value or "Not given"}
        if editable:
            row["href"] = f"{step_url(proposal, slug)}?from=check#id_{name}"
        result.append(row)
    return result


def _field_step(name: str) -> str:
    for step in STEPS:
        if name in step.form.base_fields:
            return step.slug
    return STEPS[0].slug


@login_required
@never_cache
def check_answers(request: HttpRequest, reference: str) -> HttpResponse:
    """Check your answers, see similar proposals across government, and submit."""
    proposal = selectors.proposal_for(user_of(request), reference)
    if not workflow.may(user_of(request), "submit", proposal):
        # After changing a proposal that is already submitted, the question pages end here.
        if workflow.may(user_of(request), "edit", proposal):
            if workflow.may(user_of(request), "resubmit", proposal):
                return redirect("proposals:resubmit", reference=proposal.reference)
            messages.success(request, f"Your changes to {proposal.reference} have been saved")
            return redirect(proposal.get_absolute_url())
        refused = guard(request, "submit", proposal)
        assert refused is not None  # may() said no, so the check refuses
        return refused
    errors: list[dict[str, str]] = []
    if request.method == "POST":
        try:
            services.proposal_transition(proposal=proposal, actor=user_of(request), action="submit")
        except ValidationError as error:
            for name, texts in error.message_dict.items():
                href = f"{step_url(proposal, _field_step(name))}?from=check#id_{name}"
                errors.extend({"href": href, "text": text} for text in texts)
        except services.InvalidTransition as error:
            return refusal_page(request, error, proposal.get_absolute_url())
        else:
            return redirect("proposals:submitted", reference=proposal.reference)
    context = {
        "proposal": proposal,
        "rows": answer_rows(proposal, editable=True),
        "files": list(proposal.attachments.all()),
        "similar": similarity.similar_to_proposal(user_of(request), proposal),
        "errors": errors,
    }
    return render(request, "proposals/check_answers.html", context, status=400 if errors else 200)


@login_required
def submitted(request: HttpRequest, reference: str) -> HttpResponse:
    proposal = selectors.proposal_for(user_of(request), reference)
    if not perms.is_author(user_of(request), proposal) or proposal.status != Status.SUBMITTED:
        return redirect(proposal.get_absolute_url())
    return render(request, "proposals/submitted.html", {"proposal": proposal})


# --- the authors' other actions ----------------------------------------------------------


def _confirm(
    request: HttpRequest,
    reference: str,
    *,
    action: str,
    template: str,
    act: Any,
    done: str,
    redirect_to: Any,
) -> HttpResponse:
    proposal = selectors.proposal_for(user_of(request), reference)
    refused = guard(request, action, proposal)
    if refused is not None:
        return refused
    if request.method == "POST":
        try:
            result = act(proposal)
        except services.InvalidTransition as error:
            # Someone acted between the check and the lock: the same 409 page.
            return refusal_page(request, error, proposal.get_absolute_url())
        messages.success(request, done.format(reference=proposal.reference))
        return redirect(redirect_to(proposal, result))
    return render(request, template, {"proposal": proposal})


@login_required
@never_cache
def delete(request: HttpRequest, reference: str) -> HttpResponse:
    return _confirm(
        request,
        reference,
        action="delete",
        template="proposals/delete.html",
        act=lambda p: services.proposal_delete_draft(proposal=p, actor=user_of(request)),
        done="Your draft {reference} has been deleted",
        redirect_to=lambda p, result: reverse("home"),
    )


@login_required
@never_cache
def withdraw(request: HttpRequest, reference: str) -> HttpResponse:
    return _confirm(
        request,
        reference,
        action="withdraw",
        template="proposals/withdraw.html",
        act=lambda p: services.proposal_transition(
            proposal=p, actor=user_of(request), action="withdraw"
        ),
        done="{reference} has been withdrawn",
        redirect_to=lambda p, result: p.get_absolute_url(),
    )


@login_required
@never_cache
def resubmit(request: HttpRequest, reference: str) -> HttpResponse:
    """Answer a request for more information: change the answers, then resubmit."""
    proposal = selectors.proposal_for(user_of(request), reference)
    refused = guard(request, "resubmit", proposal)
    if refused is not None:
        return refused
    errors: list[dict[str, str]] = []
    if request.method == "POST":
        try:
            services.proposal_transition(
                proposal=proposal, actor=user_of(request), action="resubmit"
            )
        except ValidationError as error:
            for name, texts in error.message_dict.items():
                href = f"{step_url(proposal, _field_step(name))}?from=check#id_{name}"
                errors.extend({"href": href, "text": text} for text in texts)
        except services.InvalidTransition as error:
            return refusal_page(request, error, proposal.get_absolute_url())
        else:
            messages.success(request, f"{proposal.reference} has been resubmitted")
            return redirect(proposal.get_absolute_url())
    request_for_info = proposal.decisions.filter(kind=DecisionKind.MORE_INFO).first()
    context = {
        "proposal": proposal,
        "rows": answer_rows(proposal, editable=True),
        "request_for_info": request_for_info,
        "errors": errors,
    }
    return render(request, "proposals/resubmit.html", context, status=400 if errors else 200)


@login_required
@require_POST
def propose_again(request: HttpRequest, reference: str) -> HttpResponse:
    proposal = selectors.proposal_for(user_of(request), reference)
    refused = guard(request, "propose_again", proposal)
    if refused is not None:
        return refused
    draft = services.proposal_propose_again(proposal=proposal, actor=user_of(request))
    messages.success(
        request,
        f"Your new draft {draft.reference} starts from {proposal.reference}. "
        "Change what you need to, then submit it.",
    )
    return redirect("proposals:edit", reference=draft.reference, step=STEPS[0].slug)
