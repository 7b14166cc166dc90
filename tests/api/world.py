"""A small world for the access tests: everyone from tests/conftest.py and one
object in each situation the visibility rule distinguishes."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from accounts.models import User
from proposals.enums import (
    CostBand,
    DeliveryStatus,
    Direction,
    ExperimentStatus,
    OutcomeResult,
    Status,
    Visibility,
)
from proposals.models import (
    Challenge,
    EvaluationPlan,
    Experiment,
    Metric,
    MetricActual,
    Outcome,
    Proposal,
    Report,
    Theme,
    WebhookDelivery,
    WebhookEndpoint,
)
from tests.factories import ProposalFactory

ROLES = ("alice", "amir", "rita", "lena", "bob", "hugo", "ana")

# Who sees each proposal (SPEC §1). Drafts: their authors. Department-only:
# the owning department (and collaborators). Government: everyone signed in.
VISIBLE = {
    "own_draft": {"alice"},
    "dfe_government": set(ROLES),
    "dfe_department": {"alice", "amir", "rita", "lena"},
    "ho_department": {"bob", "hugo"},
}
TARGETS = tuple(VISIBLE)


@dataclass
class World:
    users: dict[str, User]
    proposals: dict[str, Proposal]
    experiment: Experiment
    outcome: Outcome
    report: Report
    webhook: WebhookEndpoint
    challenge: Challenge
    evaluation: EvaluationPlan


def build_world(users: dict[str, User]) -> World:
    alice, bob = users["alice"], users["bob"]
    theme = Theme.objects.get_or_create(slug="automation", defaults={"name": "Automation"})[0]
    proposals = {
        "own_draft": ProposalFactory.create(
            submitter=alice,
            status=Status.DRAFT,
            reference="DFE-2026-9001",
            cost_band=CostBand.UNDER_10K,
        ),
        "dfe_government": ProposalFactory.create(
            submitter=alice, reference="DFE-2026-9002", cost_band=CostBand.UNDER_10K
        ),
        "dfe_department": ProposalFactory.create(
            submitter=alice,
            reference="DFE-2026-9003",
            visibility=Visibility.DEPARTMENT,
            cost_band=CostBand.UNDER_10K,
        ),
        "ho_department": ProposalFactory.create(
            submitter=bob,
            reference="HO-2026-9001",
            visibility=Visibility.DEPARTMENT,
            cost_band=CostBand.UNDER_10K,
        ),
    }
    for proposal in proposals.values():
        proposal.themes.add(theme)
    today = timezone.localdate()
    experiment = Experiment.objects.create(
        proposal=proposals["dfe_department"],
        title="Pilot in two regions",
        we_believe="reading forms automatically",
        will_result_in="fewer hours retyping",
        we_will_know_when="hours fall by a fifth",
        lead=users["lena"],
        starts_on=today - dt.timedelta(days=30),
        ends_on=today,
        status=ExperimentStatus.COMPLETED,
    )
    metric = Metric.objects.create(
        experiment=experiment,
        name="Hours retyping",
        unit="hours a week",
        baseline=Decimal("40"),
        target=Decimal("32"),
        direction=Direction.DECREASE,
    )
    outcome = Outcome.objects.create(
        experiment=experiment,
        result=OutcomeResult.MET,
        lessons="It worked where forms were typed.",
        recommendation="scale",
        published=True,
        published_at=timezone.now(),
        recorded_by=users["lena"],
    )
    MetricActual.objects.create(outcome=outcome, metric=metric, value=Decimal("30"))
    report = Report.objects.create(requested_by=users["lena"], kind="proposals", format="csv")
    webhook = WebhookEndpoint.objects.create(
        department=users["lena"].department,
        url="https://hooks.example.gov.uk/innovation",
        secret="s" * 64,
        events=["proposal.submitted"],
        created_by=users["lena"],
    )
    WebhookDelivery.objects.create(
        endpoint=webhook,
        event="proposal.submitted",
        payload={"event": "proposal.submitted"},
        status=DeliveryStatus.SENT,
    )
    challenge = Challenge.objects.create(
        slug="paperless-courts",
        title="Paperless courts",
        question="How might courts stop printing?",
        opens_on=today - dt.timedelta(days=1),
        closes_on=today + dt.timedelta(days=30),
    )
    evaluation = EvaluationPlan.objects.create(
        experiment=experiment,
        evaluation_types=["impact"],
        impact_designs=["rct"],
        brief_description="A trial in two regions",
        lead_department=experiment.proposal.department,
        evaluation_start=experiment.starts_on,
        evaluation_end=experiment.ends_on,
        intervention_start=experiment.starts_on,
        intervention_end=experiment.ends_on,
        final_report_due=experiment.ends_on + dt.timedelta(weeks=12),
    )
    return World(users, proposals, experiment, outcome, report, webhook, challenge, evaluation)
