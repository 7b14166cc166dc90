"""Triage, assessment, decisions, merges, closing and feedback (issue 4).

Thin: each view reads through `selectors`/`dashboards`, writes through the
services, and turns their errors into pages: ValidationError → the form's error
summary, ActionNotAllowed → 403, InvalidTransition → the same page again with
a clear message and HTTP 409 (nothing overwritten), invisible → 404.
"""

from __future__ import annotations

from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from accounts.models import User
from proposals import dashboards, selectors, services, similarity, workflow
from proposals import permissions as perms
from proposals.exceptions import InvalidTransition, RefusalKind
from proposals.filters import PanelFilter, QueueFilter
from proposals.forms.common import add_service_errors
from proposals.forms.review import (
    AcceptForm,
    AssessmentForm,
    BulkAcceptForm,
    CloseForm,
    ConflictForm,
    DecisionForm,
    MergeForm,
    RejectForm,
    RequestInfoForm,
)
from proposals.models import Assessment, Criterion, Proposal
from proposals.selectors import proposal_for, proposals_visible_to
from proposals.services import proposals_accept_many
from proposals.views._common import guard

QUEUE_PAGE_SIZE = 25
# "Assigned to you" lists the oldest this many; the rest follow as they are done.
ASSIGNED_SHOWN = 50


def current_user(request: HttpRequest) -> User:
    """The signed-in person: every view here is behind login_required."""
    return cast("User", request.user)


def render_conflict(
    request: HttpRequest, template: str, context: dict[str, Any], exc: Exception | str
) -> HttpResponse:
    """Someone else acted first: show the page again with why, as HTTP 409."""
    context["conflict_message"] = str(exc)
    return render(request, template, context, status=409)


def guard_form(
    request: HttpRequest, action: str, proposal: Proposal, template: str, context: dict[str, Any]
) -> HttpResponse | None:
    """`guard` for a page with a form: a state conflict shows this page again with
    the GOV.UK error summary (the person sees what changed beside what they
    entered); anything else is `guard`'s answer."""
    refusal = workflow.refusal(current_user(request), action, proposal)
    if refusal is not None and refusal.kind == RefusalKind.CONFLICT:
        return render_conflict(request, template, context, refusal.message)
    return guard(request, action, proposal)


def _require_reviewer(request: HttpRequest) -> None:
    user = current_user(request)
    if not perms.is_reviewer_of(user, user.department_id):
        raise PermissionDenied("Only the department's reviewers and leads can do this")


def _require_lead(request: HttpRequest) -> None:
    user = current_user(request)
    if not perms.is_lead_of(user, user.department_id):
        raise PermissionDenied("Only the department's portfolio lead can do this")


# --- the triage dashboard -------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def dashboard(request: HttpRequest) -> HttpResponse:
    """Counts by status, the queue oldest first, assigned to you; POST bulk-accepts."""
    _require_reviewer(request)
    user = current_user(request)
    department = user.department
    # The page's own GET parameters (page, …) are not filters; unknown ones are ignored.
    filters = QueueFilter(
        request.GET or None, queryset=Proposal.objects.none(), department=department
    )
    filter_form = filters.form
    queue = dashboards.triage_queue(user, filters)
    page = dashboards.window(queue, request.GET.get("page"), QUEUE_PAGE_SIZE)
    rows = dashboards.with_age(page.rows)
    panel = User.objects.panel_of(department.pk)

    status = 200
    conflict_message = ""
    if request.method == "POST":
        posted = request.POST.getlist("references")[:100]
        # Only the department's own proposals can be triaged from its queue.
        if (
            proposals_visible_to(user)
            .filter(reference__in=posted)
            .exclude(department_id=department.pk)
            .exists()
        ):
            raise PermissionDenied("You can only triage your own department's proposals")
        bulk_form = BulkAcceptForm(request.POST, panel=panel, references=posted)
        if bulk_form.is_valid():
            chosen = list(
                dashboards.department_proposals(user).filter(
                    reference__in=bulk_form.cleaned_data["references"]
                )
            )
            try:
                accepted = proposals_accept_many(
                    proposals=chosen,
                    actor=user,
                    assessor_ids=[a.pk for a in bulk_form.cleaned_data["assessors"]],
                )
            except InvalidTransition as exc:
                conflict_message = str(exc)
                status = 409
            except ValidationError as exc:
                add_service_errors(bulk_form, exc)
            else:
                references = ", ".join(p.reference for p in accepted)
                messages.success(request, f"Accepted for review: {references}")
                return redirect(request.get_full_path())
    else:
        bulk_form = BulkAcceptForm(panel=panel, references=[])

    counts = dashboards.status_counts(user)
    context = {
        "department": department,
        "counts": counts,
        "summary": dashboards.queue_summary(user, filters, counts=counts),
        "filter_form": filter_form,
        "page": page,
        **page_links(request, page),
        "rows": rows,
        "assigned": list(dashboards.assigned_to(user)[:ASSIGNED_SHOWN]),
        "bulk_form": bulk_form,
        "form": bulk_form,
        "conflict_message": conflict_message,
        "is_lead": perms.is_lead_of(user, department.pk),
    }
    return render(request, "review/dashboard.html", context, status=status)


# --- triage of one proposal -------------------------------------------------------------------

TRIAGE_FORMS = {
    "accept": AcceptForm,
    "request_info": RequestInfoForm,
    "reject_at_triage": RejectForm,
}


@login_required
@require_http_methods(["GET", "POST"])
def triage(request: HttpRequest, reference: str) -> HttpResponse:
    proposal = proposal_for(current_user(request), reference)
    if not perms.is_department_reviewer(current_user(request), proposal):
        raise PermissionDenied("Only the department's reviewers can triage this proposal")
    panel = User.objects.panel_of(proposal.department_id).exclude(pk__in=perms.author_ids(proposal))
    forms = {
        "accept": AcceptForm(panel=panel, prefix="accept"),
        "request_info": RequestInfoForm(prefix="info"),
        "reject_at_triage": RejectForm(prefix="reject"),
    }
    action = request.POST.get("action", "")
    context: dict[str, Any] = {"proposal": proposal, "forms": forms, "form": None}
    if request.method == "POST":
        if action not in TRIAGE_FORMS:
            raise PermissionDenied("Choose accept, request more information or reject")
        prefix = {"accept": "accept", "request_info": "info", "reject_at_triage": "reject"}[action]
        kwargs = {"panel": panel} if action == "accept" else {}
        refused = guard_form(request, action, proposal, "review/triage.html", context)
        if refused is not None:
            return refused
        form = TRIAGE_FORMS[action](request.POST, prefix=prefix, **kwargs)
        forms[action] = form
        context["form"] = form
        if form.is_valid():
            data = dict(form.cleaned_data)
            if "assessors" in data:
                data["assessors"] = [a.pk for a in data["assessors"]]
            try:
                services.proposal_transition(
                    proposal=proposal,
                    actor=current_user(request),
                    action=action,
                    data=data,
                )
            except InvalidTransition as exc:
                return render_conflict(request, "review/triage.html", context, exc)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                label = {
                    "accept": "accepted for review",
                    "request_info": "sent back for more information",
                    "reject_at_triage": "rejected",
                }[action]
                messages.success(request, f"{proposal.reference} has been {label}")
                return redirect("review:dashboard")
    user = current_user(request)
    # The forms shown are the table's: accept and reject together, request_info alone.
    context["can_triage"] = workflow.may(user, "accept", proposal)
    context["can_request_info"] = workflow.may(user, "request_info", proposal)
    # Before accepting: is this an idea the department (or government) already has?
    context["duplicates"] = similarity.similar_to_proposal(user, proposal)
    context["can_merge"] = workflow.may(user, "merge", proposal)
    return render(request, "review/triage.html", context)


# --- assessment -----------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def assess(request: HttpRequest, reference: str) -> HttpResponse:
    proposal = proposal_for(current_user(request), reference)
    user = current_user(request)
    assessment = Assessment.objects.filter(proposal=proposal, assessor=user).first()
    if assessment is None or not perms.is_department_reviewer(user, proposal):
        raise PermissionDenied("You have not been asked to assess this proposal")
    criteria = list(Criterion.objects.filter(department_id=proposal.department_id, active=True))
    context: dict[str, Any] = {"proposal": proposal, "assessment": assessment}
    template = "review/assess.html"

    if assessment.conflict_declared is None:
        form: Any = ConflictForm(request.POST or None)
        context.update(step="declare", form=form)
        if request.method == "POST" and form.is_valid():
            try:
                services.assessment_declare_conflict(
                    proposal=proposal,
                    assessor=user,
                    conflict=form.cleaned_data["conflict"],
                    details=form.cleaned_data["conflict_details"],
                )
            except InvalidTransition as exc:
                return render_conflict(request, template, context, exc)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                return redirect("review:assess", reference=proposal.reference)
        return render(request, template, context)

    if assessment.conflict_declared is False and assessment.submitted_at is None:
        form = AssessmentForm(request.POST or None, criteria=criteria)
        context.update(step="score", form=form)
        if request.method == "POST" and form.is_valid():
            try:
                services.assessment_submit(
                    proposal=proposal,
                    assessor=user,
                    scores=form.scores(),
                    recommendation=form.cleaned_data["recommendation"],
                    comment=form.cleaned_data["comment"],
                )
            except InvalidTransition as exc:
                return render_conflict(request, template, context, exc)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, f"Your assessment of {proposal.reference} is saved")
                return redirect("review:assess", reference=proposal.reference)
        return render(request, template, context)

    # Declared a conflict, or already submitted: independent scoring means the
    # others' scores appear only now.
    context["step"] = "conflict" if assessment.conflict_declared else "done"
    if assessment.submitted_at is not None:
        context["others"] = submitted_assessments(current_user(request), proposal)
        context["flagged"] = _flagged(current_user(request), proposal)
    return render(request, template, context)


def submitted_assessments(user: User, proposal: Proposal) -> list[Assessment]:
    """The submitted assessments this viewer may read (selectors.assessment_filter)."""
    return list(
        selectors.assessments_visible_to(user, proposal)
        .filter(submitted_at__isnull=False)
        .select_related("assessor")
        .prefetch_related("scores__criterion")
        .order_by("submitted_at")
    )


def _flagged(user: User, proposal: Proposal) -> dict[str, Any] | None:
    """This proposal's row of the panel sheet (mean, spread, flag), from SQL."""
    return dashboards.panel_row(proposal, user)


# --- decisions by a lead ----------------------------------------------------------------------


@login_required
def panel_sheet(request: HttpRequest) -> HttpResponse:
    """The ranked panel sheet of the lead's department, filtered and paged."""
    _require_lead(request)
    user = current_user(request)
    filters = PanelFilter(
        request.GET or None,
        queryset=Proposal.objects.none(),
        request=request,
        department=user.department,
    )
    # Paged like every other list, by position (no count of the list): a
    # department with thousands in review gets a page of 25, ranked across all.
    page = dashboards.window(
        dashboards.panel_sheet(user, filters), request.GET.get("page"), QUEUE_PAGE_SIZE
    )
    return render(
        request,
        "review/panel.html",
        {
            "rows": page.rows,
            "page": page,
            **page_links(request, page),
            "total": dashboards.panel_total(user, filters),
            "hidden": dashboards.panel_hidden(user),
            "filter_form": filters.form,
            "filtered": dashboards.narrowing(filters),
            "department": user.department,
        },
    )


def page_links(request: HttpRequest, page: dashboards.Window) -> dict[str, str]:
    """The previous and next pages' addresses, with the filters kept."""
    links = {}
    for key, number, wanted in (
        ("previous_url", page.number - 1, page.has_previous),
        ("next_url", page.number + 1, page.has_next),
    ):
        if wanted:
            query = request.GET.copy()
            query["page"] = str(number)
            links[key] = f"{request.path}?{query.urlencode()}"
    return links


@login_required
@require_http_methods(["GET", "POST"])
def decide(request: HttpRequest, reference: str) -> HttpResponse:
    proposal = proposal_for(current_user(request), reference)
    if not perms.is_department_lead(current_user(request), proposal):
        raise PermissionDenied("Only the department's portfolio lead can decide")
    form = DecisionForm(request.POST or None)
    context: dict[str, Any] = {
        "proposal": proposal,
        "form": form,
        "assessments": submitted_assessments(current_user(request), proposal),
        "sheet": _flagged(current_user(request), proposal),
        "can_decide": any(
            workflow.may(current_user(request), a, proposal) for a in ("approve", "reject")
        ),
    }
    template = "review/decide.html"
    if request.method == "POST" and form.is_valid():
        action = form.cleaned_data["decision"]
        refused = guard_form(request, action, proposal, template, context)
        if refused is not None:
            return refused
        try:
            services.proposal_transition(
                proposal=proposal,
                actor=current_user(request),
                action=action,
                data={"rationale": form.cleaned_data["rationale"]},
            )
        except InvalidTransition as exc:
            return render_conflict(request, template, context, exc)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            word = "approved" if action == "approve" else "rejected"
            messages.success(request, f"{proposal.reference} has been {word}")
            return redirect("review:panel")
    return render(request, template, context)


@login_required
@require_http_methods(["GET", "POST"])
def release_feedback(request: HttpRequest, reference: str) -> HttpResponse:
    proposal = proposal_for(current_user(request), reference)
    refused = guard(request, "release_feedback", proposal)
    if refused is not None:
        return refused
    if request.method == "POST":
        services.feedback_release(proposal=proposal, actor=current_user(request))
        messages.success(request, f"The assessors' comments on {proposal.reference} are released")
        return redirect(_proposal_url(proposal))
    return render(
        request,
        "review/feedback.html",
        {
            "proposal": proposal,
            "assessments": submitted_assessments(current_user(request), proposal),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def merge(request: HttpRequest, reference: str) -> HttpResponse:
    proposal = proposal_for(current_user(request), reference)
    if not perms.is_department_lead(current_user(request), proposal):
        raise PermissionDenied("Only the department's portfolio lead can merge proposals")
    # Triage's "Merge … into …" link names the survivor; the lead still confirms.
    form = MergeForm(request.POST or None, initial={"into": request.GET.get("into", "")[:32]})
    context = {"proposal": proposal, "form": form}
    if request.method == "POST" and form.is_valid():
        refused = guard_form(request, "merge", proposal, "review/merge.html", context)
        if refused is not None:
            return refused
        try:
            merged = services.proposal_transition(
                proposal=proposal,
                actor=current_user(request),
                action="merge",
                data={"into": form.cleaned_data["into"]},
            )
        except InvalidTransition as exc:
            return render_conflict(request, "review/merge.html", context, exc)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            survivor = merged.merged_into
            assert survivor is not None  # the merge effect always sets it
            messages.success(
                request,
                f"{proposal.reference} has been merged into {survivor.reference}",
            )
            return redirect(_proposal_url(survivor))
    return render(request, "review/merge.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def close(request: HttpRequest, reference: str) -> HttpResponse:
    proposal = proposal_for(current_user(request), reference)
    if not perms.is_department_lead(current_user(request), proposal):
        raise PermissionDenied("Only the department's portfolio lead can close a proposal")
    form = CloseForm(request.POST or None)
    outcomes = selectors.outcomes_of(current_user(request), proposal)
    experiments = [
        {"experiment": experiment, "outcome": outcomes.get(experiment.pk)}
        for experiment in selectors.experiments_visible_to(current_user(request))
        .filter(proposal=proposal)
        .order_by("starts_on", "pk")
    ]
    context = {"proposal": proposal, "form": form, "experiments": experiments}
    if request.method == "POST" and form.is_valid():
        refused = guard_form(request, "close", proposal, "review/close.html", context)
        if refused is not None:
            return refused
        try:
            services.proposal_transition(
                proposal=proposal,
                actor=current_user(request),
                action="close",
                data={"next_step": form.cleaned_data["next_step"]},
            )
        except InvalidTransition as exc:
            return render_conflict(request, "review/close.html", context, exc)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"{proposal.reference} is closed")
            return redirect("experiments:list")
    return render(request, "review/close.html", context)


def _proposal_url(proposal: Proposal) -> str:
    return proposal.get_absolute_url()
