"""seed_demo: every state present, idempotent, the demo accounts sign in; and (issue 15)
varied, coherent in time, and showing every feature to a newcomer."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from django.contrib.auth import authenticate
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.db.models import F
from django.test import RequestFactory
from django.utils import timezone

from accounts.models import Department, User
from proposals import dashboards, notifications, selectors
from proposals.enums import Direction, ExperimentStatus, NextStep, OutcomeResult, Status
from proposals.models import (
    Adoption,
    Assessment,
    AuditEvent,
    Challenge,
    Comment,
    Criterion,
    EvaluationPlan,
    Experiment,
    Metric,
    Notification,
    Outcome,
    Proposal,
    Score,
    Support,
    Theme,
)
from tests.factories import ProposalFactory

DEMO = [
    ("submitter@dfe.example", "dfe", "submitter"),
    ("reviewer@dfe.example", "dfe", "reviewer"),
    ("lead@dfe.example", "dfe", "lead"),
    ("submitter@homeoffice.example", "home-office", "submitter"),
    ("reviewer@homeoffice.example", "home-office", "reviewer"),
    ("analyst@gds.example", "gds", "analyst"),
    ("assessor@dfe.example", "dfe", "reviewer"),
]


def _counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (User, Proposal, AuditEvent, Score, Outcome, Comment)
    }


@pytest.mark.django_db
def test_seed_demo_twice_leaves_the_same_counts(settings, reference_data):
    settings.DEMO_PASSWORD = "innovate-demo"
    call_command("seed_demo", proposals=150)
    first = _counts()
    call_command("seed_demo", proposals=150)
    assert _counts() == first
    assert first["Proposal"] == 150


@pytest.mark.django_db
def test_seed_demo_covers_every_state_and_sends_nothing(settings, reference_data):
    settings.DEMO_PASSWORD = "innovate-demo"
    call_command("seed_demo", proposals=120)
    statuses = set(Proposal.objects.values_list("status", flat=True))
    assert statuses == set(Status.values)
    assert Notification.objects.count() == 0
    mine = Proposal.objects.filter(submitter__email="submitter@dfe.example")
    assert set(mine.values_list("status", flat=True)) == set(Status.values)
    merged = Proposal.objects.filter(status=Status.MERGED)
    assert all(p.merged_into_id for p in merged)
    assert Outcome.objects.filter(published=True, result="not_met").exists()


@pytest.mark.django_db
def test_demo_accounts_exist_with_their_roles_and_sign_in(settings, reference_data):
    settings.DEMO_PASSWORD = "innovate-demo"
    call_command("seed_demo", proposals=20)
    for email, department, role in DEMO:
        user = User.objects.get(email=email)
        assert (user.department.slug, user.role) == (department, role)
        request = RequestFactory().post("/accounts/login/")
        assert authenticate(request, username=email, password="innovate-demo") == user


@pytest.mark.django_db
def test_seed_demo_refuses_without_debug_or_a_password(settings, reference_data):
    settings.DEBUG = False
    settings.DEMO_PASSWORD = None
    with pytest.raises(ImproperlyConfigured):
        call_command("seed_demo", proposals=1)


@pytest.mark.django_db
def test_seed_demo_tops_up_to_a_larger_size(settings, reference_data):
    settings.DEMO_PASSWORD = "innovate-demo"
    call_command("seed_demo", proposals=60)
    call_command("seed_demo", proposals=130)
    assert Proposal.objects.count() == 130
    assert Proposal.objects.values("reference").distinct().count() == 130


# --- any department configuration, and all or nothing ---------------------------------------


def _everything() -> dict[str, int]:
    return _counts() | {m.__name__: m.objects.count() for m in (Challenge, Assessment, Experiment)}


@pytest.mark.django_db
def test_seed_demo_works_when_a_department_has_no_criteria(settings, reference_data):
    settings.DEMO_PASSWORD = "innovate-demo"
    Criterion.objects.filter(department__slug="dfe").delete()
    Criterion.objects.filter(department__slug="home-office").update(active=False)

    call_command("seed_demo", proposals=150)

    assert Proposal.objects.count() == 150
    assert not Score.objects.filter(assessment__proposal__department__slug="dfe").exists()
    assert not Score.objects.filter(assessment__proposal__department__slug="home-office").exists()
    # Departments with criteria are still scored as before.
    assert Assessment.objects.exclude(weighted_score=None).exists() == Score.objects.exists()
    assert set(Proposal.objects.values_list("status", flat=True)) == set(Status.values)


@pytest.mark.django_db
def test_seed_demo_works_with_no_criteria_no_themes_and_a_department_of_nobody(
    settings, reference_data
):
    settings.DEMO_PASSWORD = "innovate-demo"
    Criterion.objects.all().delete()
    Theme.objects.all().delete()
    call_command("seed_demo", proposals=20)
    # Every seeded colleague of one department leaves: it has no one to propose.
    User.objects.filter(department__slug="dcms").update(is_active=False)
    dcms_before = Proposal.objects.filter(department__slug="dcms").count()
    # And a new body, without an email domain yet, has no one at all.
    Department.objects.create(slug="new-body", name="A new body", email_domain="")

    call_command("seed_demo", proposals=200)

    assert Proposal.objects.count() == 200
    assert Score.objects.count() == 0
    assert not Proposal.objects.filter(themes__isnull=False).exists()
    assert Proposal.objects.filter(department__slug="dcms").count() == dcms_before
    assert not User.objects.filter(department__slug="new-body").exists()


@pytest.mark.django_db
def test_seed_demo_without_a_demo_department_says_so_and_writes_nothing(settings, reference_data):
    settings.DEMO_PASSWORD = "innovate-demo"
    Department.objects.filter(slug="gds").delete()
    before = _everything()

    with pytest.raises(CommandError) as refused:
        call_command("seed_demo", proposals=50)

    assert str(refused.value) == (
        "seed_demo needs the departments dfe, home-office and gds for the demo accounts "
        "(the accounts migrations load them from accounts/data/departments.csv); "
        "missing: gds. Nothing was written."
    )
    assert _everything() == before


@pytest.mark.django_db
def test_seed_demo_that_fails_part_way_writes_nothing(settings, reference_data):
    """References already taken (their sequence lost): the bulk write fails after the
    accounts, people and challenges were added, and all of it is undone."""
    settings.DEMO_PASSWORD = "innovate-demo"
    dfe = Department.objects.get(slug="dfe")
    author = User.objects.create_user(
        "taken@dfe.example", "x", full_name="Tess Taken", department=dfe
    )
    for year in (2024, 2025, 2026, 2027):
        for n in range(1, 40):
            ProposalFactory.create(
                department=dfe, submitter=author, reference=f"DFE-{year}-{n:04d}"
            )
    before = _everything()

    with pytest.raises(CommandError) as failed:
        call_command("seed_demo", proposals=400)

    assert str(failed.value).startswith(
        "seed_demo could not write the demo data, so it wrote nothing:"
    )
    assert _everything() == before


# --- what the demo shows a newcomer (issue 15): on SQLite, and on PostgreSQL (COPY) -----------

# The lifecycle's order of a proposal's audit events (merge_in belongs to the survivor).
STEP = {
    "create": 0,
    "adopt": 0,
    "submit": 1,
    "withdraw": 2,
    "request_info": 2,
    "merge": 2,
    "reject_at_triage": 2,
    "accept": 2,
    "approve": 3,
    "reject": 3,
    "release_feedback": 4,
    "start_experiment": 4,
    "close": 5,
}


@pytest.fixture
def demo(settings, reference_data) -> None:
    """The demo at its default size, as `make run` loads it."""
    settings.DEMO_PASSWORD = "innovate-demo"
    call_command("seed_demo")


def _user(email: str) -> User:
    return User.objects.select_related("department").get(email=email)


@pytest.mark.django_db
def test_the_dfe_panel_has_varied_scores_a_moderation_flag_and_work_left(demo, client):
    lead = _user("lead@dfe.example")
    sheet = list(
        dashboards.panel_sheet(lead).values(  # type: ignore[misc]  # annotations
            "pk", "flagged", "assessments_done", "mean_score", "conflicts", "scores_hidden"
        )
    )
    assert len(sheet) >= 10
    assert not any(row["scores_hidden"] for row in sheet)  # the lead wrote none of them
    # The moderation rule is the panel sheet's (dashboards.with_panel_scores).
    flagged = [row for row in sheet if row["flagged"]]
    assert flagged
    assert len(flagged) < len(sheet) / 2
    for row in flagged:
        assessors = set(
            Assessment.objects.filter(proposal=row["pk"], submitted_at__isnull=False).values_list(
                "assessor", flat=True
            )
        )
        assert len(assessors) >= 2
    assert any(r["assessments_done"] >= 2 and not r["flagged"] for r in sheet)  # agreeing
    assert any(r["assessments_done"] == 0 for r in sheet)  # not yet scored
    assert len({r["mean_score"] for r in sheet if r["mean_score"] is not None}) >= 5
    assert any(r["conflicts"] for r in sheet)
    # Both demo assessors have scored DfE proposals in review; the assessor has more to do.
    in_review = Assessment.objects.filter(
        proposal__department__slug="dfe",
        proposal__status=Status.IN_REVIEW,
        submitted_at__isnull=False,
    )
    emails = set(in_review.values_list("assessor__email", flat=True))
    assert {"reviewer@dfe.example", "assessor@dfe.example"} <= emails
    assert dashboards.assigned_to(_user("assessor@dfe.example")).exists()
    scores = Score.objects.filter(assessment__in=in_review)
    assert set(scores.values_list("score", flat=True)) >= {1, 2, 3, 4, 5}
    # Per criterion too: no assessment gives every criterion the same score.
    assert any(len(set(a.scores.values_list("score", flat=True))) > 1 for a in in_review[:20])
    # Nobody assesses their own proposal.
    assert not Assessment.objects.filter(assessor=F("proposal__submitter")).exists()
    # And the page says so.
    client.force_login(lead)
    page = client.get("/review/panel/").content.decode()
    assert "Needs moderation" in page
    assert "Awaiting assessments" in page


@pytest.mark.django_db
def test_released_feedback_is_there_for_the_dfe_submitter_to_read(demo, client):
    submitter = _user("submitter@dfe.example")
    released = Proposal.objects.filter(
        submitter=submitter, feedback_released=True, status__in=[Status.REJECTED, Status.APPROVED]
    )
    assert released.exists()
    for proposal in released:
        feedback = selectors.feedback_visible_to(submitter, proposal)
        assert feedback.exists()
        assert all(a.comment for a in feedback)
        assert AuditEvent.objects.filter(proposal=proposal, action="release_feedback").exists()
    # Feedback only where someone assessed.
    assert (
        not Proposal.objects.filter(feedback_released=True)
        .exclude(assessments__submitted_at__isnull=False)
        .exists()
    )
    client.force_login(submitter)
    page = client.get(f"/proposals/{released[0].reference}/").content.decode()
    assert "Feedback from the assessors" in page


@pytest.mark.django_db
def test_a_merged_duplicate_and_adoptions_across_departments_exist(demo):
    merged = Proposal.objects.filter(status=Status.MERGED).select_related("merged_into")
    assert merged.exists()
    for duplicate in merged:
        survivor = duplicate.merged_into
        assert survivor is not None and survivor.submitted_at is not None
        assert survivor.department_id == duplicate.department_id
        assert survivor.status in {Status.SUBMITTED, Status.MORE_INFO, Status.IN_REVIEW}
        assert duplicate.title != survivor.title
        merge = AuditEvent.objects.get(proposal=duplicate, action="merge")
        assert merge.changes["merged_into"] == [None, survivor.reference]
        assert AuditEvent.objects.filter(
            proposal=survivor, action="merge_in", changes__merged_from=[None, duplicate.reference]
        ).exists()
        assert survivor.submitted_at < merge.created_at
    adoptions = Adoption.objects.select_related(
        "proposal", "outcome__experiment__proposal__department"
    )
    assert {"dfe", "home-office"} <= set(adoptions.values_list("department__slug", flat=True))
    for adoption in adoptions:
        original = adoption.outcome.experiment.proposal
        assert adoption.outcome.published
        assert original.department_id != adoption.department_id
        assert adoption.proposal.department_id == adoption.department_id
        assert adoption.proposal.title == f"Adopt: {original.title}"[:150]
        assert original.reference in adoption.proposal.proposed_solution
        _in_order(adoption.pk, adoption.outcome.published_at, adoption.created_at)
        _in_order(adoption.pk, adoption.outcome.published_at, adoption.proposal.created_at)
    assert adoptions.filter(proposal__submitter__email="submitter@dfe.example").exists()


@pytest.mark.django_db
def test_overdue_triage_and_overdue_outcomes_are_there(demo):
    lead = _user("lead@dfe.example")
    summary = dashboards.queue_summary(lead)
    # Some late, some within target (figures are `Total`s: counted up to the cap).
    assert 0 < summary["overdue"].count < summary["total"].count
    today = timezone.localdate()
    overdue = Experiment.objects.filter(
        status=ExperimentStatus.RUNNING, ends_on__lt=today, outcome__isnull=True
    )
    assert overdue.filter(proposal__department__slug="dfe").exists()
    assert Experiment.objects.filter(status=ExperimentStatus.RUNNING, ends_on__gt=today).exists()
    # The daily reminder would chase them.
    assert notifications.remind_experiments(today=today) > 0


@pytest.mark.django_db
def test_experiments_and_lessons_differ(demo):
    experiments = Experiment.objects.all()
    outcomes = Outcome.objects.filter(published=True)
    assert experiments.count() >= 40
    assert outcomes.count() >= 20
    assert experiments.values("title").distinct().count() == experiments.count()
    assert experiments.values("we_believe").distinct().count() >= 15
    assert outcomes.values("lessons").distinct().count() == outcomes.count()
    assert Proposal.objects.values("title").distinct().count() == Proposal.objects.count()
    assert Proposal.objects.values("summary").distinct().count() >= 25
    metrics = Metric.objects.all()
    assert metrics.values("name").distinct().count() >= 30
    assert metrics.values("baseline").distinct().count() >= 40
    assert metrics.values("target").distinct().count() >= 40
    assert set(metrics.values_list("direction", flat=True)) == set(Direction.values)
    assert set(outcomes.values_list("result", flat=True)) == set(OutcomeResult.values)
    assert set(outcomes.values_list("recommendation", flat=True)) == set(NextStep.values)
    assert outcomes.values("experiment__proposal__department").distinct().count() >= 5
    assert (
        Proposal.themes.through.objects.filter(proposal__experiments__outcome__in=outcomes)
        .values("theme")
        .distinct()
        .count()
        >= 5
    )
    assert Experiment.objects.filter(status=ExperimentStatus.STOPPED).exists()
    # Each metric's actual value is what its result says.
    for outcome in outcomes.prefetch_related("actuals__metric"):
        reached = []
        for actual in outcome.actuals.all():
            m = actual.metric
            better = (
                actual.value <= m.target if m.direction == "decrease" else actual.value >= m.target
            )
            reached.append(better)
        if outcome.result == OutcomeResult.MET:
            assert all(reached), outcome.lessons
        elif outcome.result == OutcomeResult.NOT_MET:
            assert not any(reached), outcome.lessons
        assert outcome.lessons.startswith(outcome.actuals.order_by("metric_id")[0].metric.name)
    # Completed proposals' next step is their outcome's recommendation.
    for proposal in Proposal.objects.filter(status=Status.COMPLETED):
        outcome = Outcome.objects.get(experiment__proposal=proposal)
        assert proposal.next_step == outcome.recommendation


def _in_order(what: object, *times: dt.datetime | dt.date | None, strictly: bool = True) -> None:
    """Each time known, and each before the next (or the same, unless strictly)."""
    known = [t for t in times if t is not None]
    assert len(known) == len(times), (what, times)
    for earlier, later in itertools.pairwise(known):
        assert earlier < later if strictly else earlier <= later, (what, times)


def _assert_time_is_coherent() -> None:
    now = timezone.now()
    today = timezone.localdate()
    for p in Proposal.objects.all():
        _in_order(p.reference, p.created_at, p.updated_at, now, strictly=False)
        if p.status == Status.DRAFT:
            assert p.submitted_at is None
            continue
        _in_order(p.reference, p.created_at, p.submitted_at, now)
        if p.decided_at is not None:
            _in_order(p.reference, p.submitted_at, p.decided_at, now)
        events = list(
            AuditEvent.objects.filter(proposal=p).exclude(action="merge_in").order_by("created_at")
        )
        steps = [STEP[e.action] for e in events]
        assert steps == sorted(steps), (p.reference, [e.action for e in events])
        assert all(e.created_at <= now for e in events)
        triage = next((e for e in events if STEP[e.action] == 2), None)
        if p.decided_at is not None and triage is not None and triage.action == "accept":
            _in_order(p.reference, p.submitted_at, triage.created_at, p.decided_at)
        for a in Assessment.objects.filter(proposal=p):
            assert triage is not None and a.created_at == triage.created_at
            if a.submitted_at is not None:
                _in_order(p.reference, triage.created_at, a.submitted_at)
                _in_order(p.reference, a.submitted_at, p.decided_at or now, strictly=False)
        for when in [
            *Comment.objects.filter(proposal=p).values_list("created_at", flat=True),
            *Support.objects.filter(proposal=p).values_list("created_at", flat=True),
        ]:
            _in_order(p.reference, p.submitted_at, when, now, strictly=False)
    for e in Experiment.objects.select_related("proposal").all():
        _in_order(e.title, e.proposal.decided_at, e.created_at, e.started_at)
        _in_order(e.title, e.started_at, now, strictly=False)
        assert e.started_at is not None and e.started_at.date() == e.starts_on
        _in_order(e.title, e.starts_on, e.ends_on)
        _in_order(e.title, e.starts_on, today, strictly=False)
        if e.status != ExperimentStatus.RUNNING:  # only a running one's end is ahead
            _in_order(e.title, e.ends_on, today, strictly=False)
        if e.stopped_at is not None:
            _in_order(e.title, e.started_at, e.stopped_at, now)
    for o in Outcome.objects.select_related("experiment").all():
        e = o.experiment
        _in_order(e.title, e.started_at, o.created_at)
        _in_order(e.title, o.created_at, o.published_at, now, strictly=False)
        assert o.published_at is not None
        _in_order(e.title, e.ends_on, o.published_at.date(), strictly=False)
        for review in o.benefit_reviews.all():
            _in_order(e.title, o.published_at.date(), review.due_on)
            if review.reviewed_on is not None:
                _in_order(e.title, review.due_on, review.reviewed_on)
                _in_order(e.title, review.reviewed_on, today, strictly=False)
    for plan in EvaluationPlan.objects.select_related("experiment__proposal").all():
        decided = plan.experiment.proposal.decided_at
        assert decided is not None
        _in_order(plan.pk, decided.date(), plan.actual_evaluation_start, strictly=False)
        if plan.final_report_published is not None:
            published = plan.experiment.outcome.published_at
            assert published is not None
            _in_order(plan.pk, published.date(), plan.final_report_published)
            _in_order(plan.pk, plan.final_report_published, today, strictly=False)
    for created, opens, closes in Proposal.objects.exclude(challenge=None).values_list(
        "created_at", "challenge__opens_on", "challenge__closes_on"
    ):
        _in_order("challenge", opens, created.date(), closes, strictly=False)


@pytest.mark.django_db
def test_every_date_is_in_the_lifecycles_order_and_none_in_the_future(demo):
    _assert_time_is_coherent()


@pytest.mark.django_db
def test_topped_up_demo_stays_coherent_and_a_second_run_adds_nothing(settings, reference_data):
    """The bulk path after the first chunk (no scripted proposals) keeps every rule."""
    settings.DEMO_PASSWORD = "innovate-demo"
    call_command("seed_demo", proposals=50)
    call_command("seed_demo", proposals=450, seed=7)
    _assert_time_is_coherent()
    assert Outcome.objects.filter(result=OutcomeResult.NOT_MET).exists()
    assert (
        Experiment.objects.values("title").distinct().count() >= 0.95 * Experiment.objects.count()
    )
    counts = _all_counts()
    call_command("seed_demo", proposals=450, seed=7)
    assert _all_counts() == counts


def _all_counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (
            User,
            Proposal,
            AuditEvent,
            Assessment,
            Score,
            Experiment,
            Metric,
            Outcome,
            EvaluationPlan,
            Adoption,
            Comment,
            Support,
        )
    }


@pytest.mark.django_db
def test_seed_demo_at_the_default_size_twice_adds_nothing(demo):
    counts = _all_counts()
    call_command("seed_demo")
    assert _all_counts() == counts
    assert counts["Proposal"] == 300
