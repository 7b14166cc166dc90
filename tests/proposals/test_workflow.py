"""The transition table, exhaustively: every action × every state × every kind
of actor. The expectations are written out here by hand from SPEC §2, not read
from proposals.workflow, so that a change to the table that breaks the spec
fails."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from proposals import services
from proposals.enums import ExperimentStatus, NextStep, OutcomeResult, Status
from proposals.exceptions import ActionNotAllowed, InvalidTransition
from proposals.models import (
    Assessment,
    AuditEvent,
    Decision,
    Experiment,
    Notification,
    Outcome,
    Proposal,
)
from proposals.workflow import TRANSITIONS, available_actions
from tests.factories import ProposalFactory

ALL = set(Status.values)
BEFORE_DECISION = {"draft", "submitted", "more_info", "in_review"}

# action: (states it may start from, state it leads to, actors who may perform it)
EXPECTED = {
    "submit": ({"draft"}, "submitted", {"author"}),
    "resubmit": ({"more_info"}, "submitted", {"author"}),
    "withdraw": (BEFORE_DECISION, "withdrawn", {"author"}),
    "accept": ({"submitted"}, "in_review", {"reviewer", "lead"}),
    "request_info": ({"submitted", "in_review"}, "more_info", {"reviewer", "lead"}),
    "reject_at_triage": ({"submitted"}, "rejected", {"reviewer", "lead"}),
    "approve": ({"in_review"}, "approved", {"lead"}),
    "reject": ({"in_review"}, "rejected", {"lead"}),
    "merge": ({"submitted", "more_info", "in_review"}, "merged", {"lead"}),
    "start_experiment": ({"approved"}, "experimenting", {"lead"}),
    "close": ({"experimenting"}, "completed", {"lead"}),
}
ACTORS = ["author", "colleague", "reviewer", "lead", "other_reviewer", "analyst"]


def test_table_covers_every_action_of_the_spec():
    assert set(TRANSITIONS) == set(EXPECTED)
    for action, (sources, target, _) in EXPECTED.items():
        assert {s.value for s in TRANSITIONS[action].sources} == sources, action
        assert TRANSITIONS[action].target == target, action


@pytest.fixture
def people(alice, amir, rita, ravi, lena, hugo, ana):
    return {
        "author": alice,
        "colleague": amir,
        "reviewer": rita,
        "lead": lena,
        "other_reviewer": hugo,
        "analyst": ana,
        "assessor": ravi,
    }


def _arrange(status: str, people) -> tuple[Proposal, dict]:
    """A DfE proposal by alice in `status`, with what every action needs to succeed."""
    proposal = ProposalFactory.create(
        submitter=people["author"],
        status=status,
        cost_band="under_10k",
        decided_at=timezone.now() if status in {"approved", "rejected"} else None,
    )
    assessment = Assessment.objects.create(
        proposal=proposal,
        assessor=people["assessor"],
        conflict_declared=False,
        weighted_score=Decimal("3.5"),
        recommendation="fund",
        submitted_at=timezone.now(),
    )
    survivor = ProposalFactory.create(submitter=people["colleague"], status=Status.SUBMITTED)
    experiment = Experiment.objects.create(
        proposal=proposal,
        title="Trial",
        we_believe="a",
        will_result_in="b",
        we_will_know_when="c",
        lead=people["lead"],
        starts_on=dt.date(2026, 1, 1),
        ends_on=dt.date(2026, 3, 1),
        status=ExperimentStatus.COMPLETED,
    )
    Outcome.objects.create(
        experiment=experiment,
        result=OutcomeResult.NOT_MET,
        lessons="It did not work",
        recommendation=NextStep.STOP,
        recorded_by=people["lead"],
    )
    assert assessment.pk
    data = {
        "assessors": [people["assessor"].pk],
        "message": "Please add costs",
        "rationale": "Good value",
        "into": survivor.reference,
        "next_step": NextStep.STOP,
    }
    return proposal, data


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("status", sorted(ALL))
@pytest.mark.parametrize("action", sorted(EXPECTED))
@pytest.mark.django_db
def test_transition_allowed_exactly_as_the_spec_says(action, status, actor, people):
    sources, target, who = EXPECTED[action]
    proposal, data = _arrange(status, people)
    events_before = AuditEvent.objects.filter(proposal=proposal, action=action).count()

    allowed = status in sources and actor in who
    if allowed:
        result = services.proposal_transition(
            proposal=proposal, actor=people[actor], action=action, data=data
        )
        assert result.status == target
        proposal.refresh_from_db()
        assert proposal.status == target
        event = AuditEvent.objects.get(proposal=proposal, action=action)
        assert event.actor == people[actor]
        assert event.changes["status"] == [status, target]
    else:
        with pytest.raises((ActionNotAllowed, InvalidTransition)):
            services.proposal_transition(
                proposal=proposal, actor=people[actor], action=action, data=data
            )
        proposal.refresh_from_db()
        assert proposal.status == status
        assert AuditEvent.objects.filter(proposal=proposal, action=action).count() == events_before


@pytest.mark.django_db
def test_available_actions_lists_only_what_this_user_may_do_now(people):
    proposal, _ = _arrange(Status.SUBMITTED, people)
    assert [t.action for t in available_actions(people["author"], proposal)] == ["withdraw"]
    assert [t.action for t in available_actions(people["reviewer"], proposal)] == [
        "accept",
        "request_info",
        "reject_at_triage",
    ]
    assert [t.action for t in available_actions(people["lead"], proposal)] == [
        "accept",
        "request_info",
        "reject_at_triage",
        "merge",
    ]
    assert available_actions(people["other_reviewer"], proposal) == []


@pytest.mark.parametrize(
    ("action", "status", "field"),
    [
        ("reject_at_triage", Status.SUBMITTED, "rationale"),
        ("reject", Status.IN_REVIEW, "rationale"),
        ("request_info", Status.SUBMITTED, "message"),
        ("accept", Status.SUBMITTED, "assessors"),
        ("merge", Status.SUBMITTED, "into"),
        ("close", Status.EXPERIMENTING, "next_step"),
    ],
)
@pytest.mark.django_db
def test_transition_requirements_refuse_with_field_errors_and_change_nothing(
    action, status, field, people
):
    proposal, _ = _arrange(status, people)
    with pytest.raises(ValidationError) as raised:
        services.proposal_transition(
            proposal=proposal, actor=people["lead"], action=action, data={}
        )
    assert field in raised.value.message_dict
    proposal.refresh_from_db()
    assert proposal.status == status
    assert not AuditEvent.objects.filter(proposal=proposal, action=action).exists()


@pytest.mark.django_db
def test_approval_needs_the_departments_minimum_assessments(people, dfe):
    dfe.min_assessments = 2
    dfe.save()
    proposal, data = _arrange(Status.IN_REVIEW, people)
    with pytest.raises(ValidationError) as raised:
        services.proposal_transition(
            proposal=proposal, actor=people["lead"], action="approve", data=data
        )
    assert raised.value.message_dict["__all__"] == [
        "This proposal needs 2 completed assessments before a decision; it has 1"
    ]


@pytest.mark.django_db
def test_submit_needs_every_answer(alice):
    draft = services.proposal_create_draft(author=alice, data={"title": "Only a title"})
    with pytest.raises(ValidationError) as raised:
        services.proposal_transition(proposal=draft, actor=alice, action="submit")
    assert set(raised.value.message_dict) == {
        "summary",
        "problem",
        "who_has_the_problem",
        "proposed_solution",
        "expected_benefits",
        "cost_band",
    }


@pytest.mark.django_db
def test_close_needs_an_outcome_for_every_experiment(people):
    proposal, data = _arrange(Status.EXPERIMENTING, people)
    Experiment.objects.create(
        proposal=proposal,
        title="Second trial",
        we_believe="a",
        will_result_in="b",
        we_will_know_when="c",
        lead=people["lead"],
        starts_on=dt.date(2026, 1, 1),
        ends_on=dt.date(2026, 3, 1),
        status=ExperimentStatus.RUNNING,
    )
    with pytest.raises(ValidationError) as raised:
        services.proposal_transition(
            proposal=proposal, actor=people["lead"], action="close", data=data
        )
    assert raised.value.message_dict["__all__"] == [
        "Record an outcome for every experiment before closing"
    ]


@pytest.mark.django_db
def test_decisions_are_recorded_with_their_rationale(people):
    proposal, data = _arrange(Status.IN_REVIEW, people)
    services.proposal_transition(
        proposal=proposal, actor=people["lead"], action="approve", data=data
    )
    decision = Decision.objects.get(proposal=proposal)
    assert (decision.kind, decision.rationale, decision.decided_by) == (
        "approve",
        "Good value",
        people["lead"],
    )
    proposal.refresh_from_db()
    assert proposal.decided_at is not None


@pytest.mark.django_db
def test_merge_moves_supports_and_comments_to_the_survivor(people, bob):
    proposal, data = _arrange(Status.SUBMITTED, people)
    survivor = Proposal.objects.get(reference=data["into"])
    services.support_add(proposal=proposal, user=bob)
    services.support_add(proposal=proposal, user=people["reviewer"])
    services.support_add(proposal=survivor, user=bob)  # bob supports both: kept once
    services.comment_add(proposal=proposal, author=bob, body="Same as the other one")

    services.proposal_transition(proposal=proposal, actor=people["lead"], action="merge", data=data)

    proposal.refresh_from_db()
    assert proposal.status == Status.MERGED
    assert proposal.merged_into == survivor
    assert sorted(survivor.supports.values_list("user__email", flat=True)) == [
        "bob@homeoffice.example",
        "rita@dfe.example",
    ]
    assert list(survivor.comments.values_list("body", flat=True)) == ["Same as the other one"]
    assert proposal.supports.count() == 0


@pytest.mark.django_db
def test_delete_draft_keeps_its_audit_events(alice, amir):
    draft = services.proposal_create_draft(author=alice, data={"title": "Scrap this"})
    reference = draft.reference
    with pytest.raises(ActionNotAllowed):
        services.proposal_delete_draft(proposal=draft, actor=amir)
    services.proposal_delete_draft(proposal=draft, actor=alice)
    assert not Proposal.objects.filter(reference=reference).exists()
    assert list(
        AuditEvent.objects.filter(proposal_reference=reference).values_list("action", flat=True)
    ) == ["create", "delete"]


@pytest.mark.django_db
def test_propose_again_links_a_new_draft_to_the_rejected_one(people):
    proposal, _ = _arrange(Status.REJECTED, people)
    draft = services.proposal_propose_again(proposal=proposal, actor=people["author"])
    assert draft.status == Status.DRAFT
    assert draft.previous == proposal
    assert draft.title == proposal.title
    assert draft.reference != proposal.reference


@pytest.mark.django_db
def test_notification_rows_written_for_submission(alice, rita, lena, bob):
    draft = services.proposal_create_draft(
        author=alice,
        data={
            "title": "Scan letters",
            "summary": "s",
            "problem": "p",
            "who_has_the_problem": "w",
            "proposed_solution": "ps",
            "expected_benefits": "b",
            "cost_band": "under_10k",
        },
    )
    services.proposal_transition(proposal=draft, actor=alice, action="submit")
    rows = Notification.objects.filter(proposal=draft).order_by("recipient__email")
    assert [(n.recipient.email, n.kind) for n in rows] == [
        ("alice@dfe.example", "submitted"),
        ("lena@dfe.example", "new_submission"),
        ("rita@dfe.example", "new_submission"),
    ]
    assert draft.reference in rows[0].subject
