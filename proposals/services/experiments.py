"""Experiments, their outcomes, and the adoption of a published outcome elsewhere."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any, cast

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from proposals import dispatch
from proposals import permissions as perms
from proposals.enums import (
    AuditAudience,
    Direction,
    ExperimentStatus,
    OutcomeResult,
    Status,
    WebhookEvent,
)
from proposals.exceptions import ActionNotAllowed, InvalidTransition
from proposals.models import (
    Adoption,
    BenefitReview,
    EvaluationPlan,
    Experiment,
    Metric,
    MetricActual,
    Outcome,
    Proposal,
)
from proposals.services.base import audit, enforce, lock_proposal
from proposals.services.follows import followers_told_of_experiment, followers_told_of_outcome
from proposals.services.proposals import proposal_create_draft, proposal_transition
from proposals.services.webhooks import emit_webhook
from proposals.workflow import EXPERIMENT_TRANSITIONS

# --- experiments and outcomes ----------------------------------------------------------------


def _decimal(value: Any, field: str, errors: dict[str, list[str]], label: str) -> Decimal | None:
    try:
        number = Decimal(str(value).replace(",", "").strip())
    except (InvalidOperation, ValueError):
        number = None
    # The columns hold 14 digits, 2 after the point: NaN, infinity or a larger
    # number would fail in the database instead of here.
    if number is None or not number.is_finite() or abs(number) >= Decimal("1e12"):
        errors.setdefault(field, []).append(f"Enter {label} as a number, like 12 or 3.5")
        return None
    return number.quantize(Decimal("0.01"))


@transaction.atomic
def experiment_plan(
    *,
    proposal: Proposal,
    actor: User,
    data: Mapping[str, Any],
    metrics: Sequence[Mapping[str, Any]],
) -> Experiment:
    """A time-boxed experiment with its hypothesis and measured metrics."""
    locked = lock_proposal(proposal)
    enforce(actor, "plan_experiment", locked)
    lead = data.get("lead") or actor
    experiment = Experiment(
        proposal=locked,
        title=data.get("title") or "",
        we_believe=data.get("we_believe") or "",
        will_result_in=data.get("will_result_in") or "",
        we_will_know_when=data.get("we_will_know_when") or "",
        lead=lead,
        # None fails full_clean() below with "This field cannot be null."
        starts_on=cast(dt.date, data.get("starts_on")),
        ends_on=cast(dt.date, data.get("ends_on")),
        budget_gbp=data.get("budget_gbp") or 0,
    )
    errors: dict[str, list[str]] = {}
    # Every rule is checked here with its own plain-English message; the
    # model's own messages ("This field cannot be blank.", a constraint's name)
    # never reach a person.
    for name, message in (
        ("title", "Enter what the experiment is called"),
        ("we_believe", "Enter what you believe"),
        ("will_result_in", "Enter what it will result in"),
        ("we_will_know_when", "Enter how you will know you are right"),
    ):
        if not str(getattr(experiment, name)).strip():
            errors[name] = [message]
    if len(experiment.title) > 150:
        errors["title"] = ["The experiment's name must be 150 characters or fewer"]
    for name, what in (("starts_on", "start date"), ("ends_on", "end date")):
        if not isinstance(getattr(experiment, name), dt.date):
            errors[name] = [f"Enter the {what}"]
    if not isinstance(experiment.budget_gbp, int) or experiment.budget_gbp < 0:
        errors["budget_gbp"] = ["Enter the budget as a whole number of pounds"]
    if experiment.starts_on and experiment.ends_on and experiment.ends_on < experiment.starts_on:
        errors.setdefault("ends_on", []).append(
            "End date must be the same as or after the start date"
        )
    if lead.department_id != locked.department_id:
        errors.setdefault("lead", []).append("The experiment's lead must work in the department")
    rows: list[Metric] = []
    if not metrics:
        errors.setdefault("metrics", []).append("Add at least one metric")
    for index, metric in enumerate(metrics):
        n = index + 1
        # A value that is not a number is None with its error recorded, and then
        # nothing is saved, so the cast below never reaches the database.
        row = Metric(
            name=str(metric.get("name") or "").strip(),
            unit=str(metric.get("unit") or "").strip(),
            direction=metric.get("direction") or "",
            baseline=cast(
                Decimal,
                _decimal(
                    metric.get("baseline"),
                    f"metrics-{index}-baseline",
                    errors,
                    f"the baseline of metric {n}",
                ),
            ),
            target=cast(
                Decimal,
                _decimal(
                    metric.get("target"),
                    f"metrics-{index}-target",
                    errors,
                    f"the target of metric {n}",
                ),
            ),
        )
        for name, message, limit in (
            ("name", f"Enter the name of metric {n}", 100),
            ("unit", f"Enter the unit of metric {n}", 40),
        ):
            value = getattr(row, name)
            if not value:
                errors.setdefault(f"metrics-{index}-{name}", []).append(message)
            elif len(value) > limit:
                errors.setdefault(f"metrics-{index}-{name}", []).append(
                    f"The {name} of metric {n} must be {limit} characters or fewer"
                )
        if row.direction not in Direction.values:
            errors.setdefault(f"metrics-{index}-direction", []).append(
                f"Select whether metric {n} should go up or down"
            )
        rows.append(row)
    if errors:
        raise ValidationError(errors)
    experiment.save()
    for row in rows:
        row.experiment = experiment
    Metric.objects.bulk_create(rows)
    audit(
        actor=actor,
        action="plan_experiment",
        obj=experiment,
        proposal=locked,
        changes={"experiment": (None, experiment.title), "metrics": (0, len(rows))},
    )
    return experiment


def benefit_review_dates(recorded: dt.date, first: dt.date | None = None) -> list[dt.date]:
    """When an outcome's benefit is looked at again: at six months (or the date
    given) and at twelve months after it was recorded."""
    twelve = _months_later(recorded, 12)
    first = first or _months_later(recorded, 6)
    return sorted({first, twelve}) if first < twelve else [first]


def _months_later(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    # 31 August + 6 months is the last day of February.
    for last in (31, 30, 29, 28):
        try:
            return dt.date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable: every month has 28 days")


def _lock_experiment(experiment: Experiment) -> Experiment:
    return (
        Experiment.objects.select_for_update(of=("self",))
        .select_related("proposal", "proposal__department")
        .get(pk=experiment.pk)
    )


@transaction.atomic
def experiment_start(*, experiment: Experiment, actor: User) -> Experiment:
    """Start a planned experiment; the proposal becomes `experimenting` with its first."""
    locked = _lock_experiment(experiment)
    # With data, so that the step's requirement (the evaluation plan) is checked.
    enforce(actor, "start", locked, {})
    now = timezone.now()
    locked.status = ExperimentStatus.RUNNING
    locked.started_at = now
    locked.updated_at = now
    locked.save(update_fields=["status", "started_at", "updated_at"])
    # Its evaluation is now ongoing in the Registry's terms: the API's change feed
    # (ordered by the plan's updated_at) must carry that.
    EvaluationPlan.objects.filter(experiment=locked).update(updated_at=now)
    audit(
        actor=actor,
        action="start_experiment",
        obj=locked,
        proposal=locked.proposal,
        changes={"status": (ExperimentStatus.PLANNED, ExperimentStatus.RUNNING)},
    )
    if locked.proposal.status == Status.APPROVED:
        proposal_transition(proposal=locked.proposal, actor=actor, action="start_experiment")
    followers_told_of_experiment(experiment=locked, actor=actor)
    return locked


@transaction.atomic
def experiment_stop(*, experiment: Experiment, actor: User, reason: str) -> Experiment:
    """Stop a running experiment early; it still needs an outcome."""
    locked = _lock_experiment(experiment)
    enforce(actor, "stop", locked, {"reason": reason})
    now = timezone.now()
    locked.status = ExperimentStatus.STOPPED
    locked.stopped_at = now
    locked.updated_at = now
    # Stopping is never with an outcome (recording one needs the experiment
    # started, and completes a running one): it now waits for one.
    locked.awaiting_outcome = True
    locked.save(update_fields=["status", "stopped_at", "updated_at", "awaiting_outcome"])
    audit(
        actor=actor,
        action="stop_experiment",
        obj=locked,
        proposal=locked.proposal,
        changes={
            "status": (ExperimentStatus.RUNNING, ExperimentStatus.STOPPED),
            "reason": (None, reason.strip()),
        },
    )
    return locked


@transaction.atomic
def outcome_record(
    *,
    experiment: Experiment,
    actor: User,
    actuals: Mapping[int, Any],
    result: str,
    lessons: str,
    recommendation: str,
    realised_benefit_gbp: int | None = None,
    publish: bool = False,
    realised_hours_saved: int | None = None,
    benefit_owner: User | None = None,
    benefit_review_on: dt.date | None = None,
) -> Outcome:
    """Each metric's actual value, the result, lessons and a recommendation; and
    the benefit realised so far, with its owner and its later reviews (the first
    on `benefit_review_on`, by default six months on, then at twelve months)."""
    locked = _lock_experiment(experiment)
    enforce(actor, "record_outcome", locked)
    errors: dict[str, list[str]] = {}
    metrics = list(locked.metrics.all())
    values: dict[int, Decimal] = {}
    for metric in metrics:
        raw = actuals.get(metric.pk)
        if raw is None or str(raw).strip() == "":
            errors[f"actual_{metric.pk}"] = [f"Enter the actual value of “{metric.name}”"]
            continue
        value = _decimal(raw, f"actual_{metric.pk}", errors, f"the actual value of “{metric.name}”")
        if value is not None:
            values[metric.pk] = value
    if result not in OutcomeResult.values:
        errors["result"] = ["Select the result"]
    if recommendation not in {"scale", "iterate", "stop"}:
        errors["recommendation"] = ["Select whether to scale, iterate or stop"]
    if not lessons.strip():
        errors["lessons"] = ["Enter the lessons learned"]
    if benefit_owner is not None and (
        benefit_owner.department_id != locked.proposal.department_id or not benefit_owner.is_active
    ):
        errors["benefit_owner"] = ["The benefit's owner must work in the department"]
    today = timezone.localdate()
    if benefit_review_on is not None and benefit_review_on <= today:
        errors["benefit_review_on"] = ["The date of the first benefit review must be in the future"]
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    reviews = benefit_review_dates(today, benefit_review_on)
    outcome = Outcome.objects.create(
        experiment=locked,
        result=result,
        lessons=lessons.strip(),
        recommendation=recommendation,
        realised_benefit_gbp=realised_benefit_gbp,
        realised_hours_saved=realised_hours_saved,
        benefit_owner=benefit_owner or actor,
        benefit_review_on=reviews[0],
        recorded_by=actor,
        created_at=now,
        updated_at=now,
    )
    BenefitReview.objects.bulk_create(BenefitReview(outcome=outcome, due_on=d) for d in reviews)
    MetricActual.objects.bulk_create(
        MetricActual(outcome=outcome, metric=m, value=values[m.pk]) for m in metrics
    )
    complete = EXPERIMENT_TRANSITIONS["complete"]
    # It has its outcome: off the experiments page's "waiting for an outcome".
    locked.awaiting_outcome = False
    changed = ["awaiting_outcome"]
    if locked.status in complete.sources and complete.target is not None:
        locked.status = complete.target
        locked.updated_at = now
        changed += ["status", "updated_at"]
    locked.save(update_fields=changed)
    audit(
        actor=actor,
        action="record_outcome",
        obj=outcome,
        proposal=locked.proposal,
        changes={"result": (None, result), "recommendation": (None, recommendation)},
    )
    if publish:
        outcome_publish(outcome=outcome, actor=actor)
    return outcome


@transaction.atomic
def outcome_publish(*, outcome: Outcome, actor: User) -> Outcome:
    """Add the outcome to the lessons library — failures as much as successes."""
    outcome = (
        Outcome.objects.select_for_update()
        .select_related("experiment__proposal__department")
        .get(pk=outcome.pk)
    )
    proposal = outcome.experiment.proposal
    if outcome.published:  # publishing twice changes nothing
        return outcome
    enforce(actor, "publish_outcome", outcome.experiment)
    outcome.published = True
    outcome.published_at = timezone.now()
    outcome.updated_at = outcome.published_at
    outcome.save(update_fields=["published", "published_at", "updated_at"])
    audit(
        actor=actor,
        action="publish_outcome",
        obj=outcome,
        proposal=proposal,
        changes={"published": (False, True)},
    )
    emit_webhook(event=WebhookEvent.OUTCOME_PUBLISHED, proposal=proposal, outcome=outcome)
    dispatch.index_similarity_on_commit(proposal.pk)
    followers_told_of_outcome(outcome=outcome, actor=actor)
    return outcome


def proposal_adopt(*, outcome: Outcome, actor: User) -> Proposal:
    """Another department reuses a published outcome: a linked draft that credits it."""
    if not outcome.published or not perms.can_adopt(actor):
        raise ActionNotAllowed("Only published outcomes can be adopted")
    original = outcome.experiment.proposal
    with transaction.atomic():
        draft = proposal_create_draft(
            author=actor,
            data={
                "title": f"Adopt: {original.title}"[:150],
                "summary": original.summary,
                "problem": original.problem,
                "who_has_the_problem": original.who_has_the_problem,
                "proposed_solution": (
                    f"Adopt {original.reference} from {original.department.name}, whose "
                    f"experiment “{outcome.experiment.title}” found: {outcome.lessons}\n\n"
                    f"{original.proposed_solution}"
                ),
                "expected_benefits": original.expected_benefits,
                "cost_band": original.cost_band,
                "themes": list(original.themes.all()),
            },
        )
        adoption = Adoption.objects.create(
            outcome=outcome, proposal=draft, department=actor.department, adopted_by=actor
        )
        audit(
            actor=actor,
            action="adopt",
            obj=adoption,
            proposal=draft,
            changes={"adopted_from": (None, original.reference)},
            audience=AuditAudience.AUTHORS,
        )
    return draft


@transaction.atomic
def benefit_review_record(
    *,
    review: BenefitReview,
    actor: User,
    realised_benefit_gbp: int | None,
    realised_hours_saved: int | None,
    note: str = "",
) -> BenefitReview:
    """Record a due benefit review: what is realised by now becomes the outcome's
    realised benefit, and the next review (if any) its review date."""
    review = (
        BenefitReview.objects.select_for_update(of=("self",))
        .select_related("outcome__experiment__proposal__department")
        .get(pk=review.pk)
    )
    outcome = review.outcome
    enforce(actor, "review_benefit", outcome.experiment)
    if review.reviewed_on is not None:
        raise InvalidTransition("This benefit review is already recorded")
    if realised_benefit_gbp is None and realised_hours_saved is None:
        raise ValidationError(
            {"realised_benefit_gbp": ["Enter the benefit realised so far, in pounds or hours"]}
        )
    today = timezone.localdate()
    review.reviewed_on = today
    review.realised_benefit_gbp = realised_benefit_gbp
    review.realised_hours_saved = realised_hours_saved
    review.note = note.strip()
    review.reviewed_by = actor
    review.save()
    before = (outcome.realised_benefit_gbp, outcome.realised_hours_saved)
    if realised_benefit_gbp is not None:
        outcome.realised_benefit_gbp = realised_benefit_gbp
    if realised_hours_saved is not None:
        outcome.realised_hours_saved = realised_hours_saved
    following = (
        BenefitReview.objects.filter(outcome=outcome, reviewed_on__isnull=True)
        .order_by("due_on")
        .values_list("due_on", flat=True)
        .first()
    )
    outcome.benefit_review_on = following
    outcome.updated_at = timezone.now()
    outcome.save(
        update_fields=[
            "realised_benefit_gbp",
            "realised_hours_saved",
            "benefit_review_on",
            "updated_at",
        ]
    )
    audit(
        actor=actor,
        action="review_benefit",
        obj=review,
        proposal=outcome.experiment.proposal,
        changes={
            "realised": (before, (outcome.realised_benefit_gbp, outcome.realised_hours_saved)),
            "due_on": (None, review.due_on),
        },
    )
    return review
