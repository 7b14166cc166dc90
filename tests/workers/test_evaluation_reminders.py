"""The daily reminders of benefits realisation and of the Evaluation Registry's
12-week report deadline, with a fixed clock: each is sent once, on its day, to
the right people, and respects their daily-digest choice."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from proposals import notifications, portfolio, services
from proposals.enums import DeliveryStatus, Frequency, NotificationKind
from proposals.models import (
    BenefitReview,
    Notification,
    NotificationPreference,
    Outcome,
    Theme,
)
from tests.proposals.review_world import approved, planned
from tests.workers.test_evaluation_registry import plan

LONDON_NOON = dt.time(12, 0)


def at(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, LONDON_NOON))


def _recorded(alice, rita, lena, *, owner=None, signed_off: dt.date) -> Outcome:
    proposal = approved(alice, rita, lena, estimated_benefit_gbp=40000, hours_saved_per_year=3000)
    experiment = planned(proposal, lena)
    plan(experiment, lena)
    services.experiment_start(experiment=experiment, actor=lena)
    outcome = services.outcome_record(
        experiment=experiment,
        actor=lena,
        actuals={m.pk: "60" for m in experiment.metrics.all()},
        result="partly_met",
        lessons="Typed forms worked",
        recommendation="iterate",
        realised_benefit_gbp=10000,
        realised_hours_saved=800,
        benefit_owner=owner,
    )
    Outcome.objects.filter(pk=outcome.pk).update(created_at=at(signed_off))
    outcome.refresh_from_db()
    return outcome


def _sent(kind: str) -> list[tuple[str, str]]:
    return sorted(Notification.objects.filter(kind=kind).values_list("recipient__email", "subject"))


@pytest.mark.django_db
def test_recording_an_outcome_schedules_benefit_reviews_at_6_and_12_months(alice, rita, lena):
    today = timezone.localdate()
    outcome = _recorded(alice, rita, lena, owner=rita, signed_off=today)
    reviews = list(BenefitReview.objects.filter(outcome=outcome).values_list("due_on", flat=True))
    assert len(reviews) == 2
    assert (reviews[0] - today).days in range(181, 185)
    assert (reviews[1] - today).days in (365, 366)
    assert outcome.benefit_owner == rita
    assert outcome.benefit_review_on == reviews[0]
    assert (outcome.realised_benefit_gbp, outcome.realised_hours_saved) == (10000, 800)


@pytest.mark.django_db
def test_benefit_review_due_is_sent_once_to_the_owner(alice, rita, lena):
    outcome = _recorded(alice, rita, lena, owner=rita, signed_off=dt.date(2026, 1, 10))
    first = BenefitReview.objects.filter(outcome=outcome).order_by("due_on").first()
    assert first is not None
    day_before = first.due_on - dt.timedelta(days=1)
    notifications.remind_benefits_and_evaluations(now=at(day_before))
    assert _sent(NotificationKind.BENEFIT_REVIEW) == []
    notifications.remind_benefits_and_evaluations(now=at(first.due_on))
    notifications.remind_benefits_and_evaluations(now=at(first.due_on + dt.timedelta(days=1)))
    ref = outcome.experiment.proposal.reference
    assert _sent(NotificationKind.BENEFIT_REVIEW) == [
        ("rita@dfe.example", f"Benefit review due for {ref}")
    ]


@pytest.mark.django_db
def test_evaluation_report_reminders_two_weeks_before_and_when_overdue(alice, rita, lena):
    signed_off = dt.date(2026, 3, 2)  # the report is due by 25 May 2026
    outcome = _recorded(alice, rita, lena, signed_off=signed_off)
    ref = outcome.experiment.proposal.reference
    kind = NotificationKind.EVALUATION_REPORT
    for day in (dt.date(2026, 5, 10), dt.date(2026, 5, 11)):  # 15 days, then 14, before
        notifications.remind_benefits_and_evaluations(now=at(day))
    assert _sent(kind) == [("lena@dfe.example", f"Evaluation report due in 2 weeks for {ref}")]
    for day in (dt.date(2026, 5, 12), dt.date(2026, 5, 25)):  # nothing new, deadline day
        notifications.remind_benefits_and_evaluations(now=at(day))
    assert len(_sent(kind)) == 1
    for day in (dt.date(2026, 5, 26), dt.date(2026, 5, 27)):
        notifications.remind_benefits_and_evaluations(now=at(day))
    assert _sent(kind) == [
        ("lena@dfe.example", f"Evaluation report due in 2 weeks for {ref}"),
        ("lena@dfe.example", f"Evaluation report overdue for {ref}"),
    ]


@pytest.mark.django_db
def test_a_published_report_stops_the_reminders(alice, rita, lena):
    outcome = _recorded(alice, rita, lena, signed_off=dt.date(2026, 3, 2))
    services.evaluation_plan_save(
        experiment=outcome.experiment,
        actor=lena,
        data={
            "evaluation_types": ["process"],
            "process_designs": ["surveys"],
            "brief_description": "Surveys of caseworkers",
            "evaluation_start": dt.date(2026, 1, 1),
            "evaluation_end": dt.date(2026, 4, 1),
            "intervention_start": dt.date(2026, 1, 5),
            "intervention_end": dt.date(2026, 3, 27),
            "final_report_due": dt.date(2026, 5, 1),
            "report_link": "https://www.gov.uk/government/publications/ocr-evaluation",
        },
    )
    notifications.remind_benefits_and_evaluations(now=at(dt.date(2026, 6, 1)))
    assert _sent(NotificationKind.EVALUATION_REPORT) == []


@pytest.mark.django_db
def test_reminders_follow_the_daily_digest_choice(alice, rita, lena):
    NotificationPreference.objects.create(
        user=rita, kind=NotificationKind.BENEFIT_REVIEW, frequency=Frequency.DAILY
    )
    outcome = _recorded(alice, rita, lena, owner=rita, signed_off=dt.date(2026, 1, 10))
    due = BenefitReview.objects.filter(outcome=outcome).order_by("due_on").first()
    assert due is not None
    notifications.remind_benefits_and_evaluations(now=at(due.due_on))
    [row] = Notification.objects.filter(kind=NotificationKind.BENEFIT_REVIEW)
    assert row.status == DeliveryStatus.DIGEST


@pytest.mark.django_db
def test_a_benefit_review_is_recorded_on_the_page(alice, rita, lena):
    outcome = _recorded(alice, rita, lena, owner=rita, signed_off=timezone.localdate())
    first, second = BenefitReview.objects.filter(outcome=outcome).order_by("due_on")
    client = Client()
    client.force_login(lena)
    url = f"/experiments/{outcome.experiment_id}/benefits/{first.pk}/"
    page = client.get(f"/experiments/{outcome.experiment_id}/").content.decode()
    assert url in page
    empty = client.post(url, {"realised_benefit_gbp": "", "realised_hours_saved": ""})
    assert "Enter the benefit realised so far, in pounds or hours" in empty.content.decode()
    bad = client.post(url, {"realised_benefit_gbp": "-5"})
    assert "The realised benefit must be £0 or more" in bad.content.decode()
    assert (
        client.post(url, {"realised_benefit_gbp": "25000", "note": "Two more offices"}).status_code
        == 302
    )
    outcome.refresh_from_db()
    first.refresh_from_db()
    assert first.reviewed_on == timezone.localdate()
    assert (outcome.realised_benefit_gbp, outcome.realised_hours_saved) == (25000, 800)
    assert outcome.benefit_review_on == second.due_on
    assert client.post(url, {"realised_benefit_gbp": "1"}).status_code == 404


@pytest.mark.django_db
def test_portfolio_compares_estimated_and_realised_benefit(alice, rita, lena, ana):
    long_ago = timezone.localdate() - dt.timedelta(weeks=13)
    outcome = _recorded(alice, rita, lena, signed_off=long_ago)  # plan: impact, economic
    outcome.experiment.proposal.themes.set([Theme.objects.get(slug="ai")])
    # The lead's portfolio: an analyst's counts published outcomes only (the outcome rule).
    data = portfolio.portfolio(lena, portfolio.PortfolioFilters())
    assert data.benefits_by_department == [
        {
            "name": "Department for Education",
            "estimated": 40000,
            "estimated_hours": 3000,
            "realised": 10000,
            "realised_hours": 800,
        }
    ]
    assert [r["name"] for r in data.benefits_by_theme] == ["Artificial intelligence"]
    by_type = {r["name"]: (r["estimated"], r["realised"]) for r in data.benefits_by_evaluation_type}
    assert by_type == {
        "Impact": (40000, 10000),
        "Process": (0, 0),
        "Economic or value for money": (40000, 10000),
        "Other": (0, 0),
    }
    assert data.evaluations_overdue == [{"name": "Department for Education", "overdue": 1}]
    client = Client()
    client.force_login(lena)
    page = client.get("/portfolio/").content.decode()
    assert "By Magenta Book evaluation type" in page
    assert "Evaluation reports overdue" in page


@pytest.mark.django_db
def test_portfolio_benefit_figures_take_a_fixed_number_of_queries(alice, rita, lena, ana):
    _recorded(alice, rita, lena, signed_off=dt.date(2026, 1, 5))
    with CaptureQueriesContext(connection) as one:
        portfolio.portfolio(ana, portfolio.PortfolioFilters())
    _recorded(alice, rita, lena, signed_off=dt.date(2026, 1, 6))
    _recorded(alice, rita, lena, signed_off=dt.date(2026, 1, 7))
    with CaptureQueriesContext(connection) as three:
        portfolio.portfolio(ana, portfolio.PortfolioFilters())
    assert len(one) == len(three)


@pytest.mark.django_db
def test_benefit_charts_draw_estimated_beside_realised(alice, rita, lena):
    _recorded(alice, rita, lena, signed_off=dt.date(2026, 1, 5))
    client = Client()
    client.force_login(lena)
    page = client.get("/portfolio/").content.decode()
    assert "/portfolio/charts/benefit_types.svg" in page
    assert "Impact: estimated" in page
    svg = client.get("/portfolio/charts/benefit_departments.svg")
    assert svg.status_code == 200
    assert svg["Content-Type"].startswith("image/svg+xml")
    text = svg.content.decode()
    assert "Department for Education: estimated" in text
    assert "Department for Education: realised" in text
