"""Proposals in the states the review pages need, made through the services."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from accounts.models import User
from proposals import services
from proposals.models import Criterion, Experiment, Outcome, Proposal

ANSWERS = {
    "title": "Read scanned forms automatically",
    "summary": "OCR for paper forms",
    "problem": "Caseworkers retype 40,000 paper forms a year",
    "who_has_the_problem": "Caseworkers in regional offices",
    "proposed_solution": "Use OCR to read forms into the case system",
    "expected_benefits": "3,000 hours a year",
    "cost_band": "10k_50k",
}


def submitted(author: User, **answers: Any) -> Proposal:
    draft = services.proposal_create_draft(author=author, data={**ANSWERS, **answers})
    return services.proposal_transition(proposal=draft, actor=author, action="submit")


def in_review(author: User, reviewer: User, assessors: list[User], **answers: Any) -> Proposal:
    proposal = submitted(author, **answers)
    return services.proposal_transition(
        proposal=proposal,
        actor=reviewer,
        action="accept",
        data={"assessors": [a.pk for a in assessors]},
    )


def assess(proposal: Proposal, assessor: User, score: int, recommendation: str = "fund") -> None:
    services.assessment_declare_conflict(proposal=proposal, assessor=assessor, conflict=False)
    criteria = Criterion.objects.filter(department_id=proposal.department_id, active=True)
    services.assessment_submit(
        proposal=proposal,
        assessor=assessor,
        scores={c.pk: (score, "Comment") for c in criteria},
        recommendation=recommendation,
        comment="Overall comment",
    )


def approved(author: User, reviewer: User, lead: User, **answers: Any) -> Proposal:
    proposal = in_review(author, reviewer, [reviewer], **answers)
    assess(proposal, reviewer, 4)
    return services.proposal_transition(
        proposal=proposal, actor=lead, action="approve", data={"rationale": "Worth a try"}
    )


def planned(proposal: Proposal, lead: User, title: str = "Pilot in two offices") -> Experiment:
    return services.experiment_plan(
        proposal=proposal,
        actor=lead,
        data={
            "title": title,
            "we_believe": "reading forms automatically",
            "will_result_in": "less retyping",
            "we_will_know_when": "hours fall by a half",
            "lead": lead,
            "starts_on": dt.date(2026, 1, 5),
            "ends_on": dt.date(2026, 3, 27),
            "budget_gbp": 20000,
        },
        metrics=[
            {
                "name": "Hours retyping",
                "unit": "hours a week",
                "baseline": "100",
                "target": "50",
                "direction": "decrease",
            }
        ],
    )


def with_outcome(
    experiment: Experiment,
    lead: User,
    *,
    result: str = "not_met",
    benefit: int | None = 1000,
    publish: bool = True,
) -> Outcome:
    services.experiment_start(experiment=experiment, actor=lead)
    return services.outcome_record(
        experiment=experiment,
        actor=lead,
        actuals={m.pk: "90" for m in experiment.metrics.all()},
        result=result,
        lessons="Handwriting defeated the OCR",
        recommendation="stop",
        realised_benefit_gbp=benefit,
        publish=publish,
    )


@dataclass
class World:
    submitted: Proposal
    in_review: Proposal
    approved: Proposal
    experimenting: Proposal
    planned: Experiment
    running: Experiment
    outcome: Outcome


def build_world(*, alice: User, rita: User, ravi: User, lena: User) -> World:
    """One proposal in each state the review pages act on (DfE, government-visible)."""
    sub = submitted(alice, title="Awaiting triage")
    rev = in_review(alice, rita, [ravi], title="Being assessed")
    app = approved(alice, rita, lena, title="Approved idea")
    plan = planned(app, lena)
    exp_proposal = approved(alice, rita, lena, title="Experimenting idea")
    done = planned(exp_proposal, lena, title="Finished pilot")
    outcome = with_outcome(done, lena)
    running = planned(exp_proposal, lena, title="Second pilot")
    services.experiment_start(experiment=running, actor=lena)
    exp_proposal.refresh_from_db()
    return World(
        submitted=sub,
        in_review=rev,
        approved=app,
        experimenting=exp_proposal,
        planned=plan,
        running=running,
        outcome=outcome,
    )
