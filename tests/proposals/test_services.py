"""Services: audit events, notifications and the transaction around them."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction

from accounts.models import User
from proposals import services
from proposals.enums import AuditAudience, Status
from proposals.models import AuditEvent, Notification, Proposal
from proposals.selectors import timeline_for
from tests.factories import ProposalFactory

ANSWERS = {
    "title": "Read scanned forms automatically",
    "summary": "OCR for paper forms",
    "problem": "Caseworkers retype 40,000 paper forms a year",
    "who_has_the_problem": "Caseworkers in regional offices",
    "proposed_solution": "Use OCR to read forms into the case system",
    "expected_benefits": "3,000 hours a year",
    "cost_band": "10k_50k",
}


@pytest.mark.django_db
def test_reference_follows_the_department_year_sequence(alice, bob):
    first = services.proposal_create_draft(author=alice, data={"title": "One"})
    second = services.proposal_create_draft(author=alice, data={"title": "Two"})
    other = services.proposal_create_draft(author=bob, data={"title": "Three"})
    year = first.created_at.year
    assert [first.reference, second.reference, other.reference] == [
        f"DFE-{year}-0001",
        f"DFE-{year}-0002",
        f"HO-{year}-0001",
    ]


@pytest.mark.django_db
def test_edit_audits_each_changed_field_before_and_after(alice):
    draft = services.proposal_create_draft(author=alice, data={"title": "Old title"})
    services.proposal_update(proposal=draft, actor=alice, data={"title": "New title"})
    event = AuditEvent.objects.get(proposal=draft, action="edit")
    assert event.changes == {"title": ["Old title", "New title"]}


@pytest.mark.django_db
def test_edit_with_a_stale_version_changes_nothing(alice):
    draft = services.proposal_create_draft(author=alice, data={"title": "Mine"})
    services.proposal_update(proposal=draft, actor=alice, data={"title": "First"})
    with pytest.raises(services.StaleVersion):
        services.proposal_update(
            proposal=draft, actor=alice, data={"title": "Second"}, expected_version=1
        )
    draft.refresh_from_db()
    assert draft.title == "First"


@pytest.mark.django_db
def test_status_and_department_cannot_be_written_through_an_edit(alice, home_office):
    draft = services.proposal_create_draft(author=alice, data={"title": "Mine"})
    services.proposal_update(
        proposal=draft,
        actor=alice,
        data={"title": "Mine", "status": "approved", "department": home_office},
    )
    draft.refresh_from_db()
    assert (draft.status, draft.department.slug) == (Status.DRAFT, "dfe")


@pytest.mark.django_db
def test_every_transition_writes_exactly_one_audit_event(alice, rita, ravi, lena):
    draft = services.proposal_create_draft(author=alice, data=ANSWERS)
    steps: list[tuple[User, str, dict[str, Any]]] = [
        (alice, "submit", {}),
        (rita, "request_info", {"message": "How many forms?"}),
        (alice, "resubmit", {}),
        (rita, "accept", {"assessors": [ravi.pk]}),
    ]
    for actor, action, data in steps:
        services.proposal_transition(proposal=draft, actor=actor, action=action, data=data)
    actions = list(
        AuditEvent.objects.filter(proposal=draft)
        .exclude(action__in=["create", "assign"])
        .values_list("action", flat=True)
    )
    assert actions == ["submit", "request_info", "resubmit", "accept"]


@pytest.mark.django_db
def test_rolled_back_transition_leaves_no_audit_no_notification_and_queues_nothing(
    alice, rita, django_capture_on_commit_callbacks
):
    draft = services.proposal_create_draft(author=alice, data=ANSWERS)
    with django_capture_on_commit_callbacks() as callbacks:
        try:
            with transaction.atomic():
                services.proposal_transition(proposal=draft, actor=alice, action="submit")
                raise RuntimeError("the caller fails after the service returned")
        except RuntimeError:
            pass
    draft.refresh_from_db()
    assert draft.status == Status.DRAFT
    assert not AuditEvent.objects.filter(proposal=draft, action="submit").exists()
    assert not Notification.objects.exists()
    assert callbacks == []


@pytest.mark.django_db
def test_committed_transition_queues_each_notification(
    alice, rita, django_capture_on_commit_callbacks
):
    draft = services.proposal_create_draft(author=alice, data=ANSWERS)
    with django_capture_on_commit_callbacks() as callbacks:
        services.proposal_transition(proposal=draft, actor=alice, action="submit")
    # The author's receipt, the panel's notice, and the similarity worker's turn.
    assert len(callbacks) == 3
    assert Notification.objects.count() == 2


@pytest.mark.django_db
def test_timeline_shows_each_viewer_only_what_they_may_see(alice, rita, ravi, bob):
    draft = services.proposal_create_draft(author=alice, data=ANSWERS)
    services.proposal_transition(proposal=draft, actor=alice, action="submit")
    services.proposal_transition(
        proposal=draft, actor=rita, action="accept", data={"assessors": [ravi.pk]}
    )
    services.assessment_declare_conflict(proposal=draft, assessor=ravi, conflict=False)

    def actions(user):
        return list(timeline_for(user, draft).values_list("action", flat=True))

    assert actions(rita) == ["create", "submit", "accept", "assign", "declare_no_conflict"]
    assert actions(alice) == ["create", "submit", "accept"]
    assert actions(bob) == ["submit", "accept"]
    assert AuditEvent.objects.get(action="assign").audience == AuditAudience.REVIEWERS


@pytest.mark.django_db
def test_assessment_weighted_score_and_independent_submission(alice, rita, ravi, lena):
    draft = services.proposal_create_draft(author=alice, data=ANSWERS)
    services.proposal_transition(proposal=draft, actor=alice, action="submit")
    services.proposal_transition(
        proposal=draft, actor=rita, action="accept", data={"assessors": [ravi.pk]}
    )
    criteria = list(draft.department.criteria.filter(active=True))
    with pytest.raises(services.InvalidTransition):
        services.assessment_submit(proposal=draft, assessor=ravi, scores={}, recommendation="fund")
    services.assessment_declare_conflict(proposal=draft, assessor=ravi, conflict=False)
    # User need ×3 → 5, Value ×2 → 3, Feasibility ×2 → 4, Reuse ×1 → 1: 30 / 8
    scores = dict(
        zip([c.pk for c in criteria], [(5, "a"), (3, "b"), (4, "c"), (1, "d")], strict=True)
    )
    assessment = services.assessment_submit(
        proposal=draft, assessor=ravi, scores=scores, recommendation="fund"
    )
    assert str(assessment.weighted_score) == "3.750"


@pytest.mark.django_db
def test_declared_conflict_stops_the_assessor(alice, rita, ravi):
    draft = services.proposal_create_draft(author=alice, data=ANSWERS)
    services.proposal_transition(proposal=draft, actor=alice, action="submit")
    services.proposal_transition(
        proposal=draft, actor=rita, action="accept", data={"assessors": [ravi.pk]}
    )
    services.assessment_declare_conflict(
        proposal=draft, assessor=ravi, conflict=True, details="I manage the author"
    )
    criteria = draft.department.criteria.filter(active=True)
    with pytest.raises(services.InvalidTransition):
        services.assessment_submit(
            proposal=draft,
            assessor=ravi,
            scores={c.pk: (3, "") for c in criteria},
            recommendation="fund",
        )


@pytest.mark.django_db
def test_assessors_must_be_on_the_departments_panel(alice, rita, hugo):
    draft = ProposalFactory.create(submitter=alice, status=Status.SUBMITTED)

    for assessor in (hugo, alice):
        with pytest.raises(ValidationError):
            services.proposal_transition(
                proposal=draft, actor=rita, action="accept", data={"assessors": [assessor.pk]}
            )


@pytest.mark.django_db(transaction=True)
def test_two_reviewers_triaging_at_once_one_wins_one_is_refused(
    require_postgres, alice, rita, ravi, lena
):
    """Two real connections race; the row lock makes the second see the first's result."""
    proposal = ProposalFactory.create(submitter=alice, status=Status.SUBMITTED)
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def act(name, actor, action, data):
        try:
            stale = Proposal.objects.get(pk=proposal.pk)  # both read "submitted"
            barrier.wait()
            services.proposal_transition(proposal=stale, actor=actor, action=action, data=data)
            outcomes[name] = "ok"
        except services.InvalidTransition:
            outcomes[name] = "refused"
        finally:
            connection.close()

    threads = [
        threading.Thread(target=act, args=("rita", rita, "reject_at_triage", {"rationale": "No"})),
        threading.Thread(target=act, args=("lena", lena, "accept", {"assessors": [ravi.pk]})),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes.values()) == ["ok", "refused"]
    proposal.refresh_from_db()
    winner = "rita" if outcomes["rita"] == "ok" else "lena"
    assert proposal.status == {"rita": Status.REJECTED, "lena": Status.IN_REVIEW}[winner]
    assert (
        AuditEvent.objects.filter(
            proposal=proposal, action__in=["reject_at_triage", "accept"]
        ).count()
        == 1
    )


@pytest.mark.django_db(transaction=True)
def test_concurrent_drafts_get_distinct_references(require_postgres, alice, amir):
    barrier = threading.Barrier(2)
    references: list[str] = []

    def create(author):
        try:
            barrier.wait()
            references.append(
                services.proposal_create_draft(author=author, data={"title": "Race"}).reference
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=create, args=(u,)) for u in (alice, amir)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(references)) == 2
