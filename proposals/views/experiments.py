"""Experiments: the list of running and due, planning, starting, stopping early,
recording and publishing outcomes (issue 4, SPEC §2–§3)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from proposals import dashboards, registry, reports, selectors, services, workflow
from proposals import permissions as perms
from proposals.exceptions import InvalidTransition
from proposals.forms.common import add_service_errors
from proposals.forms.experiments import (
    BenefitReviewForm,
    EvaluationPlanForm,
    ExperimentForm,
    OutcomeForm,
    StopForm,
    evaluation_initial,
)
from proposals.models import BenefitReview, EvaluationPlan, Experiment
from proposals.selectors import proposal_for
from proposals.views._common import guard, refusal_page
from proposals.views._paging import CappedPaginator
from proposals.views.review import current_user, render_conflict

PAGE_SIZE = 25


def _experiment_for(request: HttpRequest, pk: int) -> Experiment:
    experiment = (
        selectors.experiments_visible_to(current_user(request))
        .select_related("proposal", "proposal__department", "lead")
        .prefetch_related("metrics")
        .filter(pk=pk)
        .first()
    )
    if experiment is None:
        raise Http404("No experiment with that number")
    return experiment


@login_required
def experiment_list(request: HttpRequest) -> HttpResponse:
    """Experiments running and planned, soonest end first, with their metrics."""
    paginator = CappedPaginator(
        dashboards.experiments_running_and_due(current_user(request)), PAGE_SIZE
    )
    page = paginator.get_page(request.GET.get("page"))
    awaiting = list(dashboards.experiments_awaiting_outcome(current_user(request))[:PAGE_SIZE])
    return render(
        request,
        "experiments/list.html",
        {
            "page_obj": page,
            "capped": paginator.capped,
            "cap": paginator.cap,
            "awaiting": awaiting,
            "today": timezone.localdate(),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def experiment_plan(request: HttpRequest, reference: str) -> HttpResponse:
    proposal = proposal_for(current_user(request), reference)
    refused = guard(request, "plan_experiment", proposal)
    if refused is not None:
        return refused
    if "add_metric" in request.POST or "remove_metric" in request.POST:
        # "Add another" and "Remove" post the form back to change its rows, so the
        # pattern works without JavaScript; nothing is checked or saved yet.
        remove = str(request.POST.get("remove_metric") or "")
        form = ExperimentForm.redisplay(
            request.POST,
            department=proposal.department,
            add="add_metric" in request.POST,
            remove=int(remove) if remove.isdigit() else None,
        )
        return render(request, "experiments/plan.html", {"proposal": proposal, "form": form})
    form = ExperimentForm(
        request.POST or None,
        department=proposal.department,
        initial={"lead": current_user(request).pk},
    )
    if request.method == "POST" and form.is_valid():
        metrics = form.metrics()
        try:
            experiment = services.experiment_plan(
                proposal=proposal,
                actor=current_user(request),
                data=form.experiment_data(),
                metrics=metrics,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Experiment “{experiment.title}” is planned")
            return redirect("experiments:detail", pk=experiment.pk)
    return render(request, "experiments/plan.html", {"proposal": proposal, "form": form})


def _evaluation_plan_of(experiment: Experiment) -> EvaluationPlan | None:
    return (
        EvaluationPlan.objects.filter(experiment=experiment)
        .select_related("lead_department")
        .prefetch_related("partner_departments")
        .first()
    )


def _detail(
    request: HttpRequest, experiment: Experiment, errors: list[str] | None = None
) -> HttpResponse:
    """The experiment's page; `errors` (a refused start) go in its error summary, as 400."""
    outcome = (
        selectors.outcomes_visible_to(current_user(request))
        .filter(experiment=experiment)
        .select_related("benefit_owner")
        .first()
    )
    actuals = {}
    if outcome is not None:
        actuals = {a.metric_id: a.value for a in outcome.actuals.all()}
    user = current_user(request)
    # The buttons are the experiment table's, and "close" the proposal table's.
    steps = {t.action for t in workflow.available_experiment_actions(user, experiment)}
    proposal_steps = {t.action for t in workflow.available_actions(user, experiment.proposal)}
    plan = _evaluation_plan_of(experiment)
    reviews = (
        list(BenefitReview.objects.filter(outcome=outcome).order_by("due_on"))
        if outcome is not None
        else []
    )
    return render(
        request,
        "experiments/detail.html",
        {
            "experiment": experiment,
            "proposal": experiment.proposal,
            "metrics": [(m, actuals.get(m.pk)) for m in experiment.metrics.all()],
            "outcome": outcome,
            "plan": plan,
            "plan_status": registry.status_of(plan) if plan is not None else None,
            "evaluation_reference": reports.evaluation_reference(
                experiment.proposal.reference, experiment.pk
            ),
            "report_deadline": registry.report_deadline(outcome.created_at) if outcome else None,
            "start_errors": errors or [],
            "benefit_reviews": reviews,
            "can_review_benefit": "review_benefit" in steps,
            "can_start": "start" in steps,
            "can_stop": "stop" in steps,
            "can_record": "record_outcome" in steps,
            "can_publish": "publish_outcome" in steps,
            "can_plan_evaluation": "plan_evaluation" in steps,
            "can_close": "close" in proposal_steps,
        },
        status=400 if errors else 200,
    )


@login_required
def experiment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, _experiment_for(request, pk))


@login_required
@require_POST
def experiment_start(request: HttpRequest, pk: int) -> HttpResponse:
    experiment = _experiment_for(request, pk)
    refused = guard(request, "start", experiment)
    if refused is not None:
        return refused
    try:
        services.experiment_start(experiment=experiment, actor=current_user(request))
    except InvalidTransition as exc:  # someone started it between the check and the lock
        return refusal_page(request, exc, reverse("experiments:detail", args=[pk]))
    except ValidationError as exc:  # what starting needs (the evaluation plan) is missing
        return _detail(request, experiment, exc.messages)
    messages.success(request, f"Experiment “{experiment.title}” has started")
    return redirect("experiments:detail", pk=pk)


@login_required
@require_http_methods(["GET", "POST"])
def experiment_stop(request: HttpRequest, pk: int) -> HttpResponse:
    experiment = _experiment_for(request, pk)
    refused = guard(request, "stop", experiment)
    if refused is not None:
        return refused
    form = StopForm(request.POST or None)
    context: dict[str, Any] = {"experiment": experiment, "form": form}
    if request.method == "POST" and form.is_valid():
        try:
            services.experiment_stop(
                experiment=experiment,
                actor=current_user(request),
                reason=form.cleaned_data["reason"],
            )
        except InvalidTransition as exc:
            return render_conflict(request, "experiments/stop.html", context, exc)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Experiment “{experiment.title}” has stopped early")
            return redirect("experiments:detail", pk=pk)
    return render(request, "experiments/stop.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def outcome_record(request: HttpRequest, pk: int) -> HttpResponse:
    experiment = _experiment_for(request, pk)
    refused = guard(request, "record_outcome", experiment)
    if refused is not None:
        return refused
    form = OutcomeForm(request.POST or None, experiment=experiment)
    context: dict[str, Any] = {"experiment": experiment, "form": form}
    if request.method == "POST" and form.is_valid():
        publish = form.cleaned_data["publish"] and perms.is_department_lead(
            current_user(request),
            experiment.proposal,
        )
        try:
            services.outcome_record(
                experiment=experiment,
                actor=current_user(request),
                actuals=form.actuals(),
                result=form.cleaned_data["result"],
                lessons=form.cleaned_data["lessons"],
                recommendation=form.cleaned_data["recommendation"],
                realised_benefit_gbp=form.cleaned_data["realised_benefit_gbp"],
                realised_hours_saved=form.cleaned_data["realised_hours_saved"],
                benefit_owner=form.cleaned_data["benefit_owner"],
                benefit_review_on=form.cleaned_data["benefit_review_on"],
                publish=publish,
            )
        except InvalidTransition as exc:
            return render_conflict(request, "experiments/outcome.html", context, exc)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"The outcome of “{experiment.title}” is recorded")
            return redirect("experiments:detail", pk=pk)
    return render(request, "experiments/outcome.html", context)


@login_required
@require_POST
def outcome_publish(request: HttpRequest, pk: int) -> HttpResponse:
    experiment = _experiment_for(request, pk)
    outcome = selectors.outcome_of(current_user(request), experiment)
    if outcome is None:
        raise Http404("This experiment has no outcome yet")
    refused = guard(request, "publish_outcome", experiment)
    if refused is not None:
        return refused
    services.outcome_publish(outcome=outcome, actor=current_user(request))
    messages.success(request, "The outcome is published in the lessons library")
    return redirect("experiments:detail", pk=pk)


@login_required
@require_http_methods(["GET", "POST"])
def evaluation_plan(request: HttpRequest, pk: int) -> HttpResponse:
    """Plan the experiment's evaluation, and later record its actual dates and
    published report: one form, the Evaluation Registry's fields."""
    experiment = _experiment_for(request, pk)
    refused = guard(request, "plan_evaluation", experiment)
    if refused is not None:
        return refused
    plan = _evaluation_plan_of(experiment)
    form = EvaluationPlanForm(
        request.POST or None, experiment=experiment, initial=evaluation_initial(experiment, plan)
    )
    context: dict[str, Any] = {"experiment": experiment, "form": form, "plan": plan}
    if request.method == "POST" and form.is_valid():
        try:
            services.evaluation_plan_save(
                experiment=experiment, actor=current_user(request), data=form.plan_data()
            )
        except InvalidTransition as exc:
            return render_conflict(request, "experiments/evaluation.html", context, exc)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"The evaluation plan of “{experiment.title}” is saved")
            return redirect("experiments:detail", pk=pk)
    return render(request, "experiments/evaluation.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def benefit_review(request: HttpRequest, pk: int, review_id: int) -> HttpResponse:
    """Record a due benefit review of the experiment's outcome."""
    experiment = _experiment_for(request, pk)
    review = BenefitReview.objects.filter(
        pk=review_id, outcome__experiment=experiment, reviewed_on__isnull=True
    ).first()
    if review is None:
        raise Http404("No benefit review waiting with that number")
    refused = guard(request, "review_benefit", experiment)
    if refused is not None:
        return refused
    form = BenefitReviewForm(request.POST or None)
    context: dict[str, Any] = {"experiment": experiment, "review": review, "form": form}
    if request.method == "POST" and form.is_valid():
        try:
            services.benefit_review_record(
                review=review,
                actor=current_user(request),
                realised_benefit_gbp=form.cleaned_data["realised_benefit_gbp"],
                realised_hours_saved=form.cleaned_data["realised_hours_saved"],
                note=form.cleaned_data["note"],
            )
        except InvalidTransition as exc:
            return render_conflict(request, "experiments/benefit_review.html", context, exc)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "The benefit review is recorded")
            return redirect("experiments:detail", pk=pk)
    return render(request, "experiments/benefit_review.html", context)
