"""The dashboards: fixed query counts, working days, the panel sheet's numbers,
races between reviewers, and the portfolio counted independently."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Department
from proposals import dashboards, services
from proposals import portfolio as figures
from proposals.enums import Status, Visibility
from proposals.filters import QueueFilter
from proposals.models import Outcome, Proposal, Theme
from tests.factories import ProposalFactory
from tests.proposals.review_world import approved, assess, in_review, planned, with_outcome


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(ctx.captured_queries)


def _populate(n: int, *, alice, rita, ravi, lena, start: int) -> None:
    """n more rows of every kind the dashboards list."""
    theme = Theme.objects.order_by("pk")[0]
    for i in range(n):
        p = ProposalFactory.create(
            submitter=alice,
            reference=f"DFE-2026-{start + i:04d}",
            submitted_at=timezone.now() - dt.timedelta(days=3 * i),
        )
        p.themes.add(theme)
        reviewed = in_review(alice, rita, [rita, ravi], title=f"Reviewed {start + i}")
        assess(reviewed, rita, 2 + i % 3)
        done = approved(alice, rita, lena, title=f"Tried {start + i}", estimated_benefit_gbp=100)
        with_outcome(planned(done, lena, title=f"Pilot {start + i}"), lena)
        planned(done, lena, title=f"Next pilot {start + i}")


DASHBOARDS = [
    ("rita", "/review/"),
    ("rita", "/review/?theme=digital&q=forms&cost_band=10k_50k"),
    ("ravi", "/review/"),
    ("lena", "/review/panel/"),
    ("lena", "/experiments/"),
    ("bob", "/lessons/"),
    ("bob", "/lessons/?result=not_met&q=handwriting"),
    ("lena", "/portfolio/"),
    ("ana", "/portfolio/"),
    ("ana", "/portfolio/?department=dfe&period_from=2020-01-01"),
    ("ana", "/portfolio/charts/departments.svg"),
]


@pytest.mark.django_db
def test_dashboards_run_the_same_number_of_queries_at_two_sizes(
    request, alice, rita, ravi, lena, bob, ana
):
    people = {"rita": rita, "ravi": ravi, "lena": lena, "bob": bob, "ana": ana}
    _populate(2, alice=alice, rita=rita, ravi=ravi, lena=lena, start=100)
    small = {(who, url): _queries(_client(people[who]), url) for who, url in DASHBOARDS}
    _populate(5, alice=alice, rita=rita, ravi=ravi, lena=lena, start=200)
    large = {(who, url): _queries(_client(people[who]), url) for who, url in DASHBOARDS}
    assert large == small


# --- working days ------------------------------------------------------------------------


def test_working_days_skip_weekends_and_england_bank_holidays():
    # Christmas Day 2026 is a Friday; Boxing Day's substitute is Monday 28 December.
    assert dashboards.working_days_between(dt.date(2026, 12, 24), dt.date(2026, 12, 29)) == 1
    # Friday to Monday is one working day.
    assert dashboards.working_days_between(dt.date(2026, 11, 27), dt.date(2026, 11, 30)) == 1
    assert dashboards.working_days_between(dt.date(2026, 11, 30), dt.date(2026, 11, 30)) == 0


def test_overdue_boundary_agrees_with_counting_days():
    today = dt.date(2026, 12, 31)
    boundary = dashboards.overdue_before(today, 5)
    assert dashboards.working_days_between(boundary, today) == 5
    assert dashboards.working_days_between(boundary - dt.timedelta(days=1), today) > 5
    # Walk back over weekends: the day before the boundary that is a working day is overdue.
    day = boundary - dt.timedelta(days=1)
    while not dashboards.is_working_day(day):
        day -= dt.timedelta(days=1)
    assert dashboards.working_days_between(day, today) == 6


@pytest.mark.django_db
def test_queue_is_oldest_first_with_age_and_overdue_flag(alice, rita, dfe):
    dfe.triage_target_days = 5
    dfe.save()
    now = timezone.now()
    old = ProposalFactory.create(submitter=alice, submitted_at=now - dt.timedelta(days=30))
    new = ProposalFactory.create(submitter=alice, submitted_at=now)
    rita.refresh_from_db()
    # Rows carry the queue's annotations (overdue, age_days), unknown to the model's type.
    rows: list[Any] = list(dashboards.triage_queue(rita))
    assert [r.pk for r in rows] == [old.pk, new.pk]
    assert [r.overdue for r in rows] == [True, False]
    dashboards.with_age(rows)
    assert rows[1].age_days == 0
    assert rows[0].age_days == dashboards.working_days_between(
        timezone.localdate(old.submitted_at), timezone.localdate()
    )
    page = _client(rita).get("/review/").content.decode()
    assert "Overdue" in page
    assert "1 over the target of 5 working days" in page


@pytest.mark.django_db
def test_queue_filters_by_cost_band_theme_and_dates(alice, rita):
    theme = Theme.objects.order_by("pk")[0]
    cheap = ProposalFactory.create(submitter=alice, cost_band="under_10k")
    cheap.themes.add(theme)
    ProposalFactory.create(submitter=alice, cost_band="over_1m")

    def queue(**params: str) -> list[Proposal]:
        filters = QueueFilter(params, queryset=Proposal.objects.none(), department=rita.department)
        return list(dashboards.triage_queue(rita, filters))

    assert [p.pk for p in queue(cost_band="under_10k")] == [cheap.pk]
    assert [p.pk for p in queue(theme=theme.slug)] == [cheap.pk]
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    assert queue(submitted_from=tomorrow.isoformat()) == []


@pytest.mark.django_db
def test_second_reviewer_triaging_the_same_proposal_gets_409_and_nothing_changes(alice, rita, ravi):
    proposal = ProposalFactory.create(submitter=alice)
    first, second = _client(rita), _client(ravi)
    # Both loaded the triage page while it was still submitted.
    assert first.get(f"/proposals/{proposal.reference}/triage/").status_code == 200
    assert second.get(f"/proposals/{proposal.reference}/triage/").status_code == 200
    won = first.post(
        f"/proposals/{proposal.reference}/triage/",
        {"action": "reject_at_triage", "reject-rationale": "Out of scope"},
    )
    lost = second.post(
        f"/proposals/{proposal.reference}/triage/",
        {"action": "accept", "accept-assessors": [rita.pk]},
    )
    assert won.status_code == 302
    assert lost.status_code == 409
    assert f"{proposal.reference} is rejected" in lost.content.decode()
    proposal.refresh_from_db()
    assert proposal.status == Status.REJECTED
    assert proposal.assignments.count() == 0


# --- assessment and the panel sheet --------------------------------------------------------


@pytest.mark.django_db
def test_others_scores_show_only_after_submitting_your_own(alice, rita, ravi, lena):
    proposal = in_review(alice, lena, [rita, ravi])
    assess(proposal, rita, 5)
    services.assessment_declare_conflict(proposal=proposal, assessor=ravi, conflict=False)
    before = _client(ravi).get(f"/proposals/{proposal.reference}/assess/").content.decode()
    assert "Rita Reviewer" not in before
    assert "Submit assessment" in before
    assess_form = {"recommendation": "do_not_fund", "comment": "Weak"}
    for criterion in proposal.department.criteria.filter(active=True):
        assess_form[f"score_{criterion.pk}"] = "1"
    response = _client(ravi).post(f"/proposals/{proposal.reference}/assess/", assess_form)
    assert response.status_code == 302
    after = _client(ravi).get(f"/proposals/{proposal.reference}/assess/").content.decode()
    assert "Rita Reviewer" in after
    # 5.000 and 1.000: spread 4 is above the default threshold of 1.5.
    assert "Needs moderation" in after


@pytest.mark.django_db
def test_panel_sheet_ranks_by_mean_and_flags_wide_spreads(alice, rita, ravi, lena):
    agreed = in_review(alice, lena, [rita, ravi], title="Agreed")
    assess(agreed, rita, 4)
    assess(agreed, ravi, 4)
    split = in_review(alice, lena, [rita, ravi], title="Split")
    assess(split, rita, 5)
    assess(split, ravi, 1)
    unscored = in_review(alice, lena, [rita], title="Unscored")
    lena.refresh_from_db()
    # Rows carry the sheet's annotations (mean_score, spread…), unknown to the model's type.
    rows: list[Any] = list(dashboards.panel_sheet(lena))
    assert [r.pk for r in rows] == [agreed.pk, split.pk, unscored.pk]
    assert [r.mean_score for r in rows] == [Decimal("4.000"), Decimal("3.000"), None]
    assert [r.spread for r in rows] == [Decimal(0), Decimal("4.000"), Decimal(0)]
    assert [r.flagged for r in rows] == [False, True, False]
    assert [(r.fund, r.do_not_fund) for r in rows] == [(2, 0), (2, 0), (0, 0)]


@pytest.mark.django_db
def test_panel_sheet_is_paged_and_ranked_across_pages_in_a_fixed_number_of_queries(
    alice, lena, dfe
):
    ProposalFactory.create_batch(3, submitter=alice, department=dfe, status=Status.IN_REVIEW)
    client = _client(lena)
    small = _queries(client, "/review/panel/")
    ProposalFactory.create_batch(27, submitter=alice, department=dfe, status=Status.IN_REVIEW)

    assert _queries(client, "/review/panel/") == small
    first = client.get("/review/panel/").content.decode()
    second = client.get("/review/panel/?page=2").content.decode()
    assert first.count('<tr class="govuk-table__row">') == 1 + 25  # the header, a page
    assert second.count('<tr class="govuk-table__row">') == 1 + 5
    # Paged by position (no count of the sheet): previous and next, filters kept.
    assert 'class="govuk-pagination govuk-pagination--block"' in first
    assert 'href="/review/panel/?page=2" rel="next"' in first
    assert 'rel="prev"' in second and 'rel="next"' not in second
    # Ranks run on: the second page starts at 26.
    assert '<td class="govuk-table__cell govuk-table__cell--numeric">26</td>' in second


# --- the portfolio ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_portfolio_numbers_equal_counts_made_from_the_rows(alice, bob, rita, lena, ana, hugo):
    rng_days = [1, 4, 9, 16, 2]
    now = timezone.now()
    made: list[Proposal] = []
    statuses = [
        Status.SUBMITTED,
        Status.IN_REVIEW,
        Status.APPROVED,
        Status.REJECTED,
        Status.EXPERIMENTING,
        Status.COMPLETED,
        Status.WITHDRAWN,
        Status.MORE_INFO,
    ]
    for i, status in enumerate(statuses * 2):
        author = alice if i % 3 else bob
        decided = status in {
            Status.APPROVED,
            Status.REJECTED,
            Status.EXPERIMENTING,
            Status.COMPLETED,
        }
        submitted_at = now - dt.timedelta(days=40)
        made.append(
            ProposalFactory.create(
                submitter=author,
                status=status,
                submitted_at=submitted_at,
                decided_at=submitted_at + dt.timedelta(days=rng_days[i % 5]) if decided else None,
                estimated_benefit_gbp=1000 * (i + 1),
                visibility=Visibility.DEPARTMENT if i == 5 else Visibility.GOVERNMENT,
            )
        )
    ProposalFactory.create(submitter=alice, status=Status.DRAFT)  # drafts never count
    # An outcome on a DfE proposal, via the services.
    tried = approved(alice, rita, lena, title="Tried", estimated_benefit_gbp=5000)
    with_outcome(planned(tried, lena), lena, result="not_met", benefit=700)
    made.append(Proposal.objects.get(pk=tried.pk))

    def expected(rows: list[Proposal]) -> dict:
        decided = sorted(
            (p.decided_at - p.submitted_at).total_seconds() / 86400
            for p in rows
            if p.decided_at and p.submitted_at
        )
        n = len(decided)
        median = (decided[(n - 1) // 2] + decided[n // 2]) / 2 if n else None
        outcomes = Outcome.objects.filter(experiment__proposal__in=[p.pk for p in rows])
        return {
            "total": len(rows),
            "funnel": {
                s: sum(1 for p in rows if p.status == s) for s in Status if s != Status.DRAFT
            },
            "median": median,
            "decided": n,
            "estimated": sum(
                p.estimated_benefit_gbp or 0
                for p in rows
                if p.status in {Status.APPROVED, Status.EXPERIMENTING, Status.COMPLETED}
            ),
            "realised": sum(o.realised_benefit_gbp or 0 for o in outcomes),
            "not_met": sum(1 for o in outcomes if o.result == "not_met"),
        }

    def actual(data: figures.Portfolio) -> dict:
        statuses = {row["key"]: row["count"] for row in data.funnel + data.other_statuses}
        return {
            "total": data.total,
            "funnel": {s: statuses[s.value] for s in Status if s != Status.DRAFT},
            "median": data.median_days_to_decision,
            "decided": data.decided,
            "estimated": data.estimated_benefit_gbp,
            "realised": data.realised_benefit_gbp,
            "not_met": {r["key"]: r["count"] for r in data.by_result}["not_met"],
        }

    dfe_rows = [p for p in made if p.department.slug == "dfe"]
    government_rows = [p for p in made if p.visibility == Visibility.GOVERNMENT]
    lead_view = actual(figures.portfolio(lena, figures.PortfolioFilters()))
    analyst_view = actual(figures.portfolio(ana, figures.PortfolioFilters()))
    for view, rows in ((lead_view, dfe_rows), (analyst_view, government_rows)):
        want = expected(rows)
        assert view.pop("median") == pytest.approx(want.pop("median"), abs=1e-6)
        assert view == want
    by_department = {
        row["department__name"]: row["total"]
        for row in figures.portfolio(ana, figures.PortfolioFilters()).by_department
    }
    assert by_department == {
        name: sum(1 for p in government_rows if p.department.name == name)
        for name in {p.department.name for p in government_rows}
    }
    # An analyst filtering by department sees that department's government-visible rows.
    home_office = Department.objects.get(slug="home-office")
    filtered = figures.portfolio(ana, figures.PortfolioFilters(department=home_office))
    assert filtered.total == sum(1 for p in government_rows if p.department_id == home_office.pk)
    # A lead's filter by department is ignored: always their own.
    ignored = figures.portfolio(lena, figures.PortfolioFilters(department=home_office))
    assert ignored.total == len(dfe_rows)


def test_working_days_arithmetic_matches_counting_day_by_day():
    start = dt.date(2025, 12, 1)
    for offset in range(0, 800, 7):
        for shift in range(7):
            a = start + dt.timedelta(days=shift)
            b = a + dt.timedelta(days=offset + shift)
            slow = sum(
                1
                for n in range(1, (b - a).days + 1)
                if dashboards.is_working_day(a + dt.timedelta(days=n))
            )
            assert dashboards.working_days_between(a, b) == slow, (a, b)


@pytest.mark.django_db
def test_portfolio_page_and_charts_share_one_cached_computation(settings, lena, ana, alice):
    settings.PORTFOLIO_CACHE_SECONDS = 60
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    cache.clear()
    ProposalFactory.create(submitter=alice)
    client = _client(ana)
    first = _queries(client, "/portfolio/")
    chart = _queries(client, "/portfolio/charts/funnel.svg")
    # The chart reads the cache: only the session and user queries remain.
    assert chart < first - 3
    # A lead's scope is their department, cached apart from the analysts'.
    lead_page = _client(lena).get("/portfolio/").content.decode()
    assert "Portfolio: Department for Education" in lead_page
    # Computed live (no snapshot yet) and cached: the page says when.
    assert "Figures as of " in lead_page
    cache.clear()
