"""The portfolio's snapshots: `refresh` stores every scope's figures at once, and what
the page and the weekly email read from them is exactly what the live computation
gives the same reader; a department's restricted figures never reach another
department; the page and the email say how old the figures are; the page reads them
in a fixed number of queries."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Department, Role, User
from proposals import messages, tasks
from proposals import portfolio as figures
from proposals.enums import NotificationKind, Status, Visibility
from proposals.models import Notification, PortfolioSnapshot, Proposal, Theme
from tests.factories import ProposalFactory, UserFactory
from tests.proposals.review_world import approved, planned, with_outcome
from tests.workers.test_evaluation_registry import plan

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")


def _person(slug: str, name: str, role: str = Role.SUBMITTER) -> User:
    return UserFactory.create(
        email=f"{name}@{slug}.example",
        full_name=name.capitalize(),
        department=Department.objects.get(slug=slug),
        role=role,
    )


def _world(alice: User, rita: User, lena: User, bob: User) -> None:
    """Proposals of three departments in every state the portfolio counts: themes,
    department-only work, decided ones (for the medians), outcomes published and not,
    an evaluation plan with an overdue report."""
    now = timezone.now()
    themes = list(Theme.objects.order_by("pk")[:3])
    dora = _person("dwp", "dora")
    for index, (author, status, visibility) in enumerate(
        [
            (alice, Status.APPROVED, Visibility.GOVERNMENT),
            (alice, Status.REJECTED, Visibility.GOVERNMENT),
            (alice, Status.APPROVED, Visibility.DEPARTMENT),
            (alice, Status.SUBMITTED, Visibility.DEPARTMENT),
            (alice, Status.DRAFT, Visibility.GOVERNMENT),
            (bob, Status.APPROVED, Visibility.GOVERNMENT),
            (bob, Status.COMPLETED, Visibility.DEPARTMENT),
            (bob, Status.IN_REVIEW, Visibility.GOVERNMENT),
            (dora, Status.REJECTED, Visibility.GOVERNMENT),
        ]
    ):
        decided = status in (Status.APPROVED, Status.REJECTED, Status.COMPLETED)
        proposal = ProposalFactory.create(
            submitter=author,
            status=status,
            visibility=visibility,
            submitted_at=None if status == Status.DRAFT else now - dt.timedelta(days=40 + index),
            decided_at=now - dt.timedelta(days=30 - index * 1.5) if decided else None,
            estimated_benefit_gbp=1_000 * (index + 1),
            hours_saved_per_year=10 * (index + 1),
        )
        proposal.themes.set(themes[: index % 3 + 1])
    # Outcomes: DfE's published one with an evaluation plan whose report is overdue, and
    # an unpublished one on DfE's department-only proposal.
    shared = approved(alice, rita, lena, estimated_benefit_gbp=40_000, hours_saved_per_year=300)
    shared.themes.set(themes[:1])
    experiment = planned(shared, lena)
    plan(experiment, lena)
    outcome = with_outcome(experiment, lena, result="met", benefit=7_000)
    type(outcome).objects.filter(pk=outcome.pk).update(created_at=now - dt.timedelta(weeks=20))
    kept = approved(alice, rita, lena, estimated_benefit_gbp=9_000)
    Proposal.objects.filter(pk=kept.pk).update(visibility=Visibility.DEPARTMENT)
    with_outcome(planned(kept, lena), lena, benefit=500, publish=False)


def _comparable(data: figures.Portfolio) -> dict[str, Any]:
    """Everything but when it was computed."""
    return {k: v for k, v in dataclasses.asdict(data).items() if k != "computed_at"}


@pytest.mark.parametrize(
    ("reader", "department"),
    [
        ("ana", None),  # an analyst: all of government
        ("ana", "dfe"),  # an analyst, one department's share of government
        ("ana", "home-office"),
        ("ana", "cabinet-office"),  # a department with nothing in it
        ("lena", None),  # DfE's lead: their department, department-only work included
        ("lena", "home-office"),  # a lead's department filter is ignored
        ("holly", None),  # Home Office's lead
        ("carl", None),  # a lead of a department with nothing in it
    ],
)
def test_the_snapshot_is_the_live_computation_for_every_scope(
    reader, department, alice, rita, lena, bob, ana
):
    _world(alice, rita, lena, bob)
    people = {
        "ana": ana,
        "lena": lena,
        "holly": _person("home-office", "holly", Role.LEAD),
        "carl": _person("cabinet-office", "carl", Role.LEAD),
    }
    user = people[reader]
    filters = figures.PortfolioFilters(
        department=Department.objects.get(slug=department) if department else None
    )
    assert figures.snapshot(user, filters) is None  # nothing stored yet: live
    stored = figures.refresh()

    snapshot = figures.snapshot(user, filters)
    live = figures.portfolio(user, filters)

    assert stored == 1 + 2 * Department.objects.count()
    assert snapshot is not None
    assert _comparable(snapshot) == _comparable(live)
    assert snapshot.computed_at == PortfolioSnapshot.objects.get(scope="government").computed_at
    # The report's breakdown by stage is stored too (the page does not read it).
    assert snapshot.by_stage == []
    staged = figures.snapshot(user, filters, by_stage=True)
    assert staged is not None
    assert staged.by_stage == figures.portfolio(user, filters, by_stage=True).by_stage
    # The figures are not empty where there is something to count (a real comparison).
    if reader in ("ana", "lena") and department in (None, "dfe"):
        assert live.total and live.by_department and live.by_theme and staged.by_stage


def test_a_period_is_computed_live_and_said_to_be(alice, rita, lena, bob, ana):
    _world(alice, rita, lena, bob)
    figures.refresh()
    period = figures.PortfolioFilters(period_from=timezone.localdate() - dt.timedelta(days=43))
    assert figures.snapshot_scope(ana, period) is None
    assert figures.snapshot(ana, period) is None
    live = figures.current(ana, period)
    assert live.total == figures.portfolio(ana, period).total
    assert live.total < figures.current(ana).total


def test_a_snapshot_never_shows_a_departments_restricted_figures_to_another(
    alice, rita, lena, bob, ana
):
    """DfE has department-only work (a proposal and an unpublished outcome) worth
    £9,000 estimated and £500 realised. DfE's lead sees it; Home Office's lead and
    every analyst, whatever department they filter by, never do."""
    holly = _person("home-office", "holly", Role.LEAD)
    ProposalFactory.create(submitter=bob, status=Status.APPROVED, estimated_benefit_gbp=3_000)
    kept = approved(alice, rita, lena, estimated_benefit_gbp=9_000)
    Proposal.objects.filter(pk=kept.pk).update(visibility=Visibility.DEPARTMENT)
    with_outcome(planned(kept, lena), lena, benefit=500, publish=False)
    figures.refresh()
    dfe = Department.objects.get(slug="dfe")

    own = figures.current(lena)
    home = figures.current(holly)
    government = figures.current(ana)
    dfe_for_analysts = figures.current(ana, figures.PortfolioFilters(department=dfe))

    assert (own.total, own.estimated_benefit_gbp, own.realised_benefit_gbp) == (1, 9_000, 500)
    assert (home.total, home.estimated_benefit_gbp, home.realised_benefit_gbp) == (1, 3_000, 0)
    assert "Department for Education" not in json.dumps(dataclasses.asdict(home), default=str)
    assert (government.total, government.estimated_benefit_gbp) == (1, 3_000)
    assert government.realised_benefit_gbp == 0
    assert [row["department__name"] for row in government.by_department] == ["Home Office"]
    assert (dfe_for_analysts.total, dfe_for_analysts.estimated_benefit_gbp) == (0, 0)
    # Through the page too, and asking for another department changes nothing for a lead.
    client = Client()
    client.force_login(holly)
    for url in ("/portfolio/", "/portfolio/?department=dfe"):
        page = client.get(url).content.decode()
        assert "Portfolio: Home Office" in page
        assert "Department for Education" not in page
        assert "9,000" not in page


def test_the_page_reads_the_snapshot_and_says_how_old_it_is(settings, alice, rita, lena, bob):
    settings.PORTFOLIO_CACHE_SECONDS = 0
    _world(alice, rita, lena, bob)
    figures.refresh()
    at = dt.datetime(2026, 12, 7, 10, 42, tzinfo=LONDON)
    PortfolioSnapshot.objects.update(computed_at=at)
    before = figures.current(lena).total
    # Submitted after the refresh: not on the page until the next one.
    ProposalFactory.create(submitter=alice)

    client = Client()
    client.force_login(lena)
    page = client.get("/portfolio/").content.decode()

    assert "Figures as of 10:42am on 7 December 2026." in page
    assert re.search(rf">{before}</span> proposals submitted", page)
    figures.refresh()
    page = client.get("/portfolio/").content.decode()
    assert re.search(rf">{before + 1}</span> proposals submitted", page)
    assert "Figures as of 10:42am" not in page


@pytest.mark.parametrize(
    ("hour", "minute", "words"),
    [
        (10, 42, "Figures as of 10:42am on 7 December 2026"),
        (15, 5, "Figures as of 3:05pm on 7 December 2026"),
        (12, 0, "Figures as of midday on 7 December 2026"),
        (0, 0, "Figures as of midnight on 7 December 2026"),
        (12, 30, "Figures as of 12:30pm on 7 December 2026"),
    ],
)
def test_how_fresh_the_figures_are_is_said_in_govuk_style(hour, minute, words):
    moment = dt.datetime(2026, 12, 7, hour, minute, tzinfo=LONDON)
    assert messages.figures_as_of(moment) == words
    # In London time whatever the moment's own zone.
    assert messages.figures_as_of(moment.astimezone(dt.UTC)) == words


def test_the_weekly_email_reads_the_snapshot_and_says_how_old_it_is(alice, rita, lena, bob):
    _world(alice, rita, lena, bob)
    figures.refresh()
    PortfolioSnapshot.objects.update(computed_at=dt.datetime(2026, 12, 7, 8, 20, tzinfo=LONDON))
    total = figures.current(lena).total

    assert tasks.send_portfolio_summaries.apply().get() >= 1

    body = Notification.objects.get(recipient=lena, kind=NotificationKind.PORTFOLIO_SUMMARY).body
    assert f"* {total} proposals submitted" in body.split("Since the service began", 1)[1]
    assert body.rstrip().endswith("Figures as of 8:20am on 7 December 2026.")


def test_the_refresh_task_stores_every_scope_and_beat_runs_it(settings, alice, rita, lena, bob):
    _world(alice, rita, lena, bob)

    stored = tasks.refresh_portfolio.apply().get()

    scopes = set(PortfolioSnapshot.objects.values_list("scope", flat=True))
    departments = set(Department.objects.values_list("pk", flat=True))
    assert stored == len(scopes)
    assert scopes == {"government"} | {
        f"{kind}:{pk}" for pk in departments for kind in ("government", "department")
    }
    # Safe to run twice: the rows are replaced, not added to.
    assert tasks.refresh_portfolio.apply().get() == stored
    assert PortfolioSnapshot.objects.count() == stored
    beat = django_settings.CELERY_BEAT_SCHEDULE["refresh-portfolio"]
    assert beat["task"] == "proposals.tasks.refresh_portfolio"
    assert beat["schedule"] == float(django_settings.PORTFOLIO_REFRESH_SECONDS) == 600.0
    assert django_settings.CELERY_TASK_ROUTES["proposals.tasks.refresh_portfolio"] == {
        "queue": "reports"
    }


def _refresh_queries() -> int:
    with CaptureQueriesContext(connection) as captured:
        figures.refresh()
    return len(captured)


def test_the_refresh_takes_a_fixed_number_of_queries_however_many_departments(
    alice, rita, lena, bob
):
    """Every scope from one pass per kind of reader, grouped by department: never a
    pass per department (there are dozens)."""
    ProposalFactory.create(submitter=alice, status=Status.APPROVED)
    one = _refresh_queries()
    _world(alice, rita, lena, bob)
    for slug in ("mod", "hmrc", "dhsc"):
        ProposalFactory.create(submitter=_person(slug, f"someone-{slug}"), status=Status.APPROVED)
    many = _refresh_queries()
    assert one == many
    # The departments, two passes of eleven aggregates grouped by department (one of
    # them the departments' medians, four one per evaluation type), government's
    # median, each pass's breakdown by stage (the report's); then the upsert in a
    # transaction (here a savepoint: savepoint, delete, insert, release).
    assert many == 1 + 2 * 11 + 1 + 2 + 4


def _page_queries(client: Client, url: str) -> list[str]:
    """The page's own queries: not the session's read and its write for the idle
    timeout (the session middleware's, the same on every page)."""
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200, url
    return [
        q["sql"]
        for q in captured.captured_queries
        if "django_session" not in q["sql"] and not q["sql"].startswith(("SAVEPOINT", "RELEASE"))
    ]


def test_the_page_takes_a_fixed_number_of_queries_from_the_snapshot(alice, rita, lena, bob, ana):
    ProposalFactory.create(submitter=alice)
    figures.refresh()
    lead, analyst = Client(), Client()
    lead.force_login(lena)
    analyst.force_login(ana)
    # The user and the snapshot; and the lead's department (the heading), or the
    # analyst's department choices (the filter). A chart: the user and the snapshot.
    small = [
        _page_queries(lead, "/portfolio/"),
        _page_queries(analyst, "/portfolio/"),
        _page_queries(analyst, "/portfolio/charts/funnel.svg"),
    ]
    assert [len(queries) for queries in small] == [3, 3, 2]
    assert all(any("proposals_portfoliosnapshot" in q for q in page) for page in small)
    assert not any("proposals_proposal" in q for page in small for q in page)

    _world(alice, rita, lena, bob)
    figures.refresh()
    assert len(_page_queries(lead, "/portfolio/")) == 3
    assert len(_page_queries(analyst, "/portfolio/")) == 3
