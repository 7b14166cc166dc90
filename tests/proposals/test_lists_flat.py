"""The lessons library, the experiments page, your home and the proposal page
cost the same at 10,000 and 1,000,000 proposals (issue 10): a fixed number of
queries, counts that stop at a cap and say "more than", the experiment's
`awaiting_outcome` flag kept by the services, and each list's query served by
its own index on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import importlib

import pytest
from django.apps import apps as django_apps
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from proposals import dashboards, selectors, services
from proposals.enums import ExperimentStatus, Status
from proposals.models import Experiment, Proposal
from proposals.views import _paging, home, lessons
from tests.factories import UserFactory
from tests.proposals.pages import draft, html
from tests.proposals.review_world import approved, planned, submitted, with_outcome

pytestmark = pytest.mark.django_db

on_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the plans are PostgreSQL's (DATABASE_URL)"
)


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(captured)


def _lessons(alice: User, rita: User, lena: User, n: int) -> None:
    """`n` published outcomes, each of its own approved proposal."""
    for i in range(n):
        proposal = approved(alice, rita, lena, title=f"Idea {i}")
        with_outcome(planned(proposal, lena, title=f"Pilot {i}"), lena)


def _stopped(alice: User, rita: User, lena: User, title: str = "Stopped idea") -> Experiment:
    experiment = planned(approved(alice, rita, lena, title=title), lena, title=f"{title} pilot")
    services.experiment_start(experiment=experiment, actor=lena)
    return services.experiment_stop(experiment=experiment, actor=lena, reason="Too costly")


# --- a fixed number of queries whatever the size -----------------------------------------


def test_the_lessons_page_runs_a_fixed_number_of_queries(alice, rita, lena, bob):
    _lessons(alice, rita, lena, 1)
    client = _client(bob)
    one = _queries(client, "/lessons/")
    _lessons(alice, rita, lena, 4)

    # Session and user, the capped count, the filters' themes and departments,
    # the page, the page's adoptions in one aggregate, and the session's save
    # (a savepoint, its update, its release).
    assert (one, _queries(client, "/lessons/")) == (10, 10)


def test_the_experiments_page_runs_a_fixed_number_of_queries(alice, rita, lena):
    _stopped(alice, rita, lena, "First")
    services.experiment_start(
        experiment=planned(approved(alice, rita, lena, title="Running"), lena), actor=lena
    )
    client = _client(lena)
    one = _queries(client, "/experiments/")
    for i in range(3):
        services.experiment_start(
            experiment=planned(approved(alice, rita, lena, title=f"More {i}"), lena), actor=lena
        )
        _stopped(alice, rita, lena, f"Stopped {i}")

    # Session and user, the capped count, the page and its metrics, those waiting
    # for an outcome and theirs, and the session's save (savepoint, update, release).
    assert (one, _queries(client, "/experiments/")) == (10, 10)


def test_home_runs_the_same_queries_for_a_reviewer_with_a_queue(alice, rita, amir):
    client = _client(rita)
    empty = _queries(client, "/")
    for i in range(5):
        submitted(alice, title=f"Queue {i}", co_authors=[amir])
        draft(rita, title=f"Rita's draft {i}")

    # Session and user; yours and those waiting for you (two queries each:
    # submitted, co-authored), triage's capped count, assessments, unread
    # notifications; the session's save.
    assert (empty, _queries(client, "/")) == (13, 13)


# --- counts that stop at a cap -----------------------------------------------------------


def test_the_lessons_count_says_more_than_the_cap_and_the_pages_still_go(
    alice, rita, lena, bob, monkeypatch
):
    _lessons(alice, rita, lena, 4)
    monkeypatch.setattr(lessons, "PAGE_SIZE", 1)
    client = _client(bob)

    monkeypatch.setattr(_paging, "LIST_COUNT_CAP", 10)
    exact = html(client.get("/lessons/"))
    monkeypatch.setattr(_paging, "LIST_COUNT_CAP", 2)
    capped = html(client.get("/lessons/"))
    last = html(client.get("/lessons/?page=3"))

    assert "4 published outcomes" in exact
    assert "More than" not in exact
    assert "More than 2 published outcomes" in capped
    assert "Search or filter to narrow these down." in capped
    # The count stops at the cap + 1: three pages of one, then a narrower search.
    assert 'aria-label="Page 3"' in capped and 'aria-label="Page 4"' not in capped
    assert "Pilot 1" in last  # newest first: 3, 2, 1


def test_the_experiments_page_says_more_than_the_cap(alice, rita, lena, monkeypatch):
    for i in range(3):
        planned(approved(alice, rita, lena, title=f"Idea {i}"), lena, title=f"Pilot {i}")
    client = _client(lena)

    monkeypatch.setattr(_paging, "LIST_COUNT_CAP", 2)
    body = html(client.get("/experiments/"))
    monkeypatch.setattr(_paging, "LIST_COUNT_CAP", 3)
    exact = html(client.get("/experiments/"))

    assert (
        "More than 2 experiments are running or planned: these pages show the 2 that end soonest."
        in body
    )
    assert "More than" not in exact


def test_home_says_more_than_the_cap_waiting_for_triage(alice, rita, monkeypatch):
    for i in range(3):
        submitted(alice, title=f"Queue {i}")
    client = _client(rita)

    monkeypatch.setattr(home, "TRIAGE_COUNT_CAP", 2)
    capped = html(client.get("/"))
    monkeypatch.setattr(home, "TRIAGE_COUNT_CAP", 3)
    exact = html(client.get("/"))

    assert "More than 2 proposals waiting for triage" in capped
    assert "3 proposals waiting for triage" in exact and "More than" not in exact


# --- your proposals: two bounded queries, one list --------------------------------------


def test_home_lists_submitted_and_co_authored_proposals_newest_first(alice, amir, monkeypatch):
    older = draft(amir, title="Amir's own draft")
    shared = submitted(alice, title="Alice's, with Amir", co_authors=[amir])
    newest = draft(amir, title="Amir's newest draft")
    Proposal.objects.filter(pk=older.pk).update(updated_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    Proposal.objects.filter(pk=shared.pk).update(updated_at=dt.datetime(2026, 2, 1, tzinfo=dt.UTC))
    Proposal.objects.filter(pk=newest.pk).update(updated_at=dt.datetime(2026, 3, 1, tzinfo=dt.UTC))

    rows = selectors.newest_authored(amir, 3)
    two = selectors.newest_authored(amir, 2)
    waiting = selectors.newest_authored(amir, 10, statuses=[Status.DRAFT, Status.MORE_INFO])
    body = html(_client(amir).get("/"))

    assert [p.title for p in rows] == [
        "Amir's newest draft",
        "Alice's, with Amir",
        "Amir's own draft",
    ]
    assert [p.title for p in two] == ["Amir's newest draft", "Alice's, with Amir"]
    assert [p.title for p in waiting] == ["Amir's newest draft", "Amir's own draft"]
    assert body.index("Amir&#x27;s newest draft") < body.index("Alice&#x27;s, with Amir")


# --- the awaiting-outcome flag, kept by the services ------------------------------------


def test_awaiting_outcome_is_kept_by_the_services_that_stop_and_record(alice, rita, lena):
    experiment = planned(approved(alice, rita, lena), lena)
    flags = [Experiment.objects.get(pk=experiment.pk).awaiting_outcome]
    services.experiment_start(experiment=experiment, actor=lena)
    flags.append(Experiment.objects.get(pk=experiment.pk).awaiting_outcome)
    services.experiment_stop(experiment=experiment, actor=lena, reason="Too costly")
    flags.append(Experiment.objects.get(pk=experiment.pk).awaiting_outcome)
    waiting = html(_client(lena).get("/experiments/"))
    services.outcome_record(
        experiment=experiment,
        actor=lena,
        actuals={m.pk: "90" for m in experiment.metrics.all()},
        result="not_met",
        lessons="Stopped early: too costly",
        recommendation="stop",
    )
    after = Experiment.objects.get(pk=experiment.pk)
    recorded = html(_client(lena).get("/experiments/"))

    assert flags == [False, False, True]
    assert (after.status, after.awaiting_outcome) == (ExperimentStatus.STOPPED, False)
    assert f'href="/experiments/{experiment.pk}/">{experiment.title}</a>' in waiting
    assert "Every finished experiment has its outcome." in recorded


def test_a_running_experiment_completed_by_its_outcome_waits_for_nothing(alice, rita, lena):
    experiment = planned(approved(alice, rita, lena), lena)
    with_outcome(experiment, lena, publish=False)

    after = Experiment.objects.get(pk=experiment.pk)

    assert (after.status, after.awaiting_outcome) == (ExperimentStatus.COMPLETED, False)
    assert list(dashboards.experiments_awaiting_outcome(lena)) == []


def test_the_awaiting_list_is_the_flagged_experiments_the_viewer_may_see(alice, rita, lena, bob):
    shared = _stopped(alice, rita, lena, "Shared")
    private = _stopped(alice, rita, lena, "Department only")
    Proposal.objects.filter(pk=private.proposal_id).update(visibility="department")

    assert set(dashboards.experiments_awaiting_outcome(lena)) == {shared, private}
    assert list(dashboards.experiments_awaiting_outcome(bob)) == [shared]


def test_the_migration_flags_the_finished_experiments_without_an_outcome(alice, rita, lena):
    stopped = _stopped(alice, rita, lena)
    done = planned(approved(alice, rita, lena, title="Done"), lena)
    with_outcome(done, lena)
    Experiment.objects.update(awaiting_outcome=False)
    migration = importlib.import_module("proposals.migrations.0020_lists_flat")

    migration._flag_awaiting(django_apps, None)

    assert set(Experiment.objects.filter(awaiting_outcome=True)) == {stopped}


# --- the proposal page reads the support count from its column ---------------------------


def test_the_proposal_page_reads_the_support_count_and_counts_no_supports(alice, bob):
    proposal = submitted(alice)
    for n in range(3):
        services.support_add(proposal=proposal, user=UserFactory.create(email=f"s{n}@dfe.example"))
    client = _client(bob)

    with CaptureQueriesContext(connection) as captured:
        body = html(client.get(f"/proposals/{proposal.reference}/"))

    assert "3 people support this proposal." in body
    counted = [
        q["sql"] for q in captured if "COUNT(" in q["sql"] and "proposals_support" in q["sql"]
    ]
    assert counted == []


# --- each list's query is served by its index (PostgreSQL) --------------------------------


def _plan(queryset) -> str:
    """The plan with sequential scans and sorts priced out: what an index can serve
    (in its order) shows as that index; at scale the planner picks it unasked."""
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("RESET enable_seqscan")
        cursor.execute("RESET enable_sort")
        cursor.execute("RESET enable_bitmapscan")
    return plan


@on_postgres
def test_each_list_walks_its_own_index(alice, rita, lena, bob):
    _lessons(alice, rita, lena, 2)
    _stopped(alice, rita, lena)
    visible = selectors.proposals_visible_to(alice)

    plans = {
        "outcome_published_idx": _plan(dashboards.lessons(bob)[:20]),
        "experiment_running_idx": _plan(dashboards.experiments_running_and_due(lena)[:25]),
        "experiment_awaiting_idx": _plan(dashboards.experiments_awaiting_outcome(lena)[:25]),
        "proposal_submitter_updated_idx": _plan(
            visible.filter(submitter_id=alice.pk).order_by("-updated_at", "-pk")[:21]
        ),
        "proposal_submitter_waiting_idx": _plan(
            visible.filter(
                submitter_id=alice.pk, status__in=[Status.DRAFT, Status.MORE_INFO]
            ).order_by("-updated_at", "-pk")[:10]
        ),
        "assessment_open_idx": _plan(home.assessments_to_do(rita)[:10]),
    }

    for index, plan in plans.items():
        assert index in plan, f"{index} not used:\n{plan}"
        assert "Sort" not in plan, f"{index} does not give the order:\n{plan}"
