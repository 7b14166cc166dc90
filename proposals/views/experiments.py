"""Experiments: the list of running and due, planning, starting, stopping early,
recording and publishing outcomes (issue 4, SPEC §2–§3)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from proposals import dashboards, services
from proposals import permissions as perms
from proposals.enums import ExperimentStatus
from proposals.forms.review import ExperimentForm, OutcomeForm, StopForm, apply_service_errors
from proposals.models import Experiment, Outcome
from proposals.selectors import proposal_for
from proposals.services import InvalidTransition
from proposals.views.review import render_conflict

PAGE_SIZE = 25


def _experiment_for(request: HttpRequest, pk: int) -> Experiment:
    experiment = (
        dashboards.experiments_visible_to(request.user)  # type: ignore[arg-type]
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
    page = Paginator(
        dashboards.experiments_running_and_due(request.user),
        PAGE_SIZE,  # type: ignore[arg-type]
    ).get_page(request.GET.get("page"))
    awaiting = list(
        dashboards.experiments_awaiting_outcome(request.user)[:PAGE_SIZE]  # type: ignore[arg-type]
    )
    return render(
        request,
        "review/experiments.html",
        {"page_obj": page, "awaiting": awaiting, "today": timezone.localdate()},
    )


@login_required
@require_http_methods(["GET", "POST"])
def experiment_plan(request: HttpRequest, reference: str) -> HttpResponse:
    proposal = proposal_for(request.user, reference)
    if not perms.can_plan_experiment(request.user, proposal):  # type: ignore[arg-type]
        raise PermissionDenied("Only the department's lead can plan experiments")
    form = ExperimentForm(
        request.POST or None,
        department=proposal.department,
        initial={"lead": request.user.pk},
    )
    if request.method == "POST" and form.is_valid():
        metrics = form.metrics()
        try:
            experiment = services.experiment_plan(
                proposal=proposal,
                actor=request.user,  # type: ignore[arg-type]
                data=form.experiment_data(),
                metrics=metrics,
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, f"Experiment “{experiment.title}” is planned")
            return redirect("review:experiment", pk=experiment.pk)
    return render(request, "review/experiment_plan.html", {"proposal": proposal, "form": form})


@login_required
def experiment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    experiment = _experiment_for(request, pk)
    outcome = Outcome.objects.filter(experiment=experiment).first()
    actuals = {}
    if outcome is not None:
        actuals = {a.metric_id: a.value for a in outcome.actuals.all()}
    user = request.user
    can_run = perms.can_run_experiment(user, experiment)  # type: ignore[arg-type]
    return render(
        request,
        "review/experiment.html",
        {
            "experiment": experiment,
            "proposal": experiment.proposal,
            "metrics": [(m, actuals.get(m.pk)) for m in experiment.metrics.all()],
            "outcome": outcome,
            "can_start": can_run and experiment.status == ExperimentStatus.PLANNED,
            "can_stop": can_run and experiment.status == ExperimentStatus.RUNNING,
            "can_record": outcome is None and perms.can_record_outcome(user, experiment),  # type: ignore[arg-type]
            "can_publish": outcome is not None
            and not outcome.published
            and perms.is_department_lead(user, experiment.proposal),  # type: ignore[arg-type]
            "can_close": perms.is_department_lead(user, experiment.proposal)  # type: ignore[arg-type]
            and experiment.proposal.status == "experimenting",
        },
    )


@login_required
@require_POST
def experiment_start(request: HttpRequest, pk: int) -> HttpResponse:
    experiment = _experiment_for(request, pk)
    try:
        services.experiment_start(experiment=experiment, actor=request.user)  # type: ignore[arg-type]
    except InvalidTransition as exc:
        messages.error(request, str(exc))
        return redirect("review:experiment", pk=pk)
    messages.success(request, f"Experiment “{experiment.title}” has started")
    return redirect("review:experiment", pk=pk)


@login_required
@require_http_methods(["GET", "POST"])
def experiment_stop(request: HttpRequest, pk: int) -> HttpResponse:
    experiment = _experiment_for(request, pk)
    if not perms.can_run_experiment(request.user, experiment):  # type: ignore[arg-type]
        raise PermissionDenied("You cannot stop this experiment")
    form = StopForm(request.POST or None)
    context: dict[str, Any] = {"experiment": experiment, "form": form}
    if request.method == "POST" and form.is_valid():
        try:
            services.experiment_stop(
                experiment=experiment,
                actor=request.user,  # type: ignore[arg-type]
                reason=form.cleaned_data["reason"],
            )
        except InvalidTransition as exc:
            return render_conflict(request, "review/experiment_stop.html", context, exc)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, f"Experiment “{experiment.title}” has stopped early")
            return redirect("review:experiment", pk=pk)
    return render(request, "review/experiment_stop.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def outcome_record(request: HttpRequest, pk: int) -> HttpResponse:
    experiment = _experiment_for(request, pk)
    if not perms.can_record_outcome(request.user, experiment):  # type: ignore[arg-type]
        raise PermissionDenied("Start the experiment before recording its outcome")
    form = OutcomeForm(request.POST or None, experiment=experiment)
    context: dict[str, Any] = {"experiment": experiment, "form": form}
    if request.method == "POST" and form.is_valid():
        publish = form.cleaned_data["publish"] and perms.is_department_lead(
            request.user,
            experiment.proposal,  # type: ignore[arg-type]
        )
        try:
            services.outcome_record(
                experiment=experiment,
                actor=request.user,  # type: ignore[arg-type]
                actuals=form.actuals(),
                result=form.cleaned_data["result"],
                lessons=form.cleaned_data["lessons"],
                recommendation=form.cleaned_data["recommendation"],
                realised_benefit_gbp=form.cleaned_data["realised_benefit_gbp"],
                publish=publish,
            )
        except InvalidTransition as exc:
            return render_conflict(request, "review/outcome.html", context, exc)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, f"The outcome of “{experiment.title}” is recorded")
            return redirect("review:experiment", pk=pk)
    return render(request, "review/outcome.html", context)


@login_required
@require_POST
def outcome_publish(request: HttpRequest, pk: int) -> HttpResponse:
    experiment = _experiment_for(request, pk)
    outcome = Outcome.objects.filter(experiment=experiment).first()
    if outcome is None:
        raise Http404("This experiment has no outcome yet")
    services.outcome_publish(outcome=outcome, actor=request.user)  # type: ignore[arg-type]
    messages.success(request, "The outcome is published in the lessons library")
    return redirect("review:experiment", pk=pk)
