"""The review pages at any size (issue 10): the counters and panel figures that
triggers keep (migration 0017) equal a live count after every kind of write, the
pages run a fixed number of queries, and the panel sheet's filters narrow it."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.db.models import Count
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Department, User
from proposals import dashboards, services
from proposals.enums import Status
from proposals.models import PanelScore, Proposal, StatusCount, Theme
from tests.factories import ProposalFactory
from tests.proposals.review_world import assess, in_review, submitted


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _live_counts() -> dict[tuple[int, str], int]:
    rows = Proposal.objects.order_by().values_list("department_id", "status").annotate(n=Count("*"))
    return {(d, s): n for d, s, n in rows}


def _kept_counts() -> dict[tuple[int, str], int]:
    return {
        (d, s): n
        for d, s, n in StatusCount.objects.values_list("department_id", "status", "count")
        if n
    }


FIGURES = ("mean_score", "spread", "assessments_done", "fund", "do_not_fund", "conflicts")


def _live_panel(viewer: User) -> dict[Any, tuple[Any, ...]]:
    """Every proposal in review's figures, aggregated from its assessments now."""
    rows = dashboards.with_panel_scores(
        Proposal.objects.filter(status=Status.IN_REVIEW),
        viewer.department.moderation_threshold,
        viewer,
    ).values("pk", "department_id", *FIGURES)  # type: ignore[misc]  # annotations
    return {r["pk"]: (r["department_id"], *(r[f] for f in FIGURES)) for r in rows}


def _kept_panel() -> dict[Any, tuple[Any, ...]]:
    rows = PanelScore.objects.all()
    return {
        r.proposal_id: (
            r.department_id,
            r.mean_score,
            (r.max_score - r.min_score)
            if r.max_score is not None and r.min_score is not None
            else 0,
            r.assessments_done,
            r.fund,
            r.do_not_fund,
            r.conflicts,
        )
        for r in rows
    }


def _agree(viewer: User) -> None:
    assert _kept_counts() == _live_counts()
    assert _kept_panel() == _live_panel(viewer)


@pytest.mark.django_db
def test_counters_and_panel_figures_equal_a_live_count_after_every_kind_of_write(
    alice, rita, ravi, lena, bob, ana
):
    # `ana` (an analyst, on no panel, author of nothing) reads every figure unhidden.
    _agree(ana)
    draft = services.proposal_create_draft(author=alice, data={"title": "A draft"})
    _agree(ana)
    first = submitted(alice, title="First")
    second = submitted(alice, title="Second")
    third = submitted(bob, title="Home Office's")
    _agree(ana)
    # Triage: accept (into review, with a panel row), ask for more, reject.
    reviewed = in_review(alice, rita, [rita, ravi], title="Reviewed")
    services.proposal_transition(
        proposal=first, actor=rita, action="request_info", data={"message": "Costs?"}
    )
    services.proposal_transition(
        proposal=second, actor=rita, action="reject_at_triage", data={"rationale": "Out of scope"}
    )
    _agree(ana)
    # Assessment: a conflict, then a score; the panel row follows each.
    services.assessment_declare_conflict(
        proposal=reviewed, assessor=ravi, conflict=True, details="My team built it"
    )
    _agree(ana)
    assess(reviewed, rita, 4)
    _agree(ana)
    # Resubmit, then decide.
    first.refresh_from_db()
    services.proposal_transition(proposal=first, actor=alice, action="resubmit")
    other = in_review(alice, rita, [rita], title="Decided")
    assess(other, rita, 2, recommendation="do_not_fund")
    _agree(ana)
    services.proposal_transition(
        proposal=other, actor=lena, action="approve", data={"rationale": "Worth a try"}
    )
    _agree(ana)
    # Moved to another department (no service does it yet: any writer is counted),
    # one submitted and one in review with its panel row.
    home_office = Department.objects.get(slug="home-office")
    Proposal.objects.filter(pk__in=[first.pk, reviewed.pk]).update(department=home_office)
    _agree(ana)
    assert PanelScore.objects.get(pk=reviewed.pk).department_id == home_office.pk
    Proposal.objects.filter(pk=reviewed.pk).update(department=alice.department)
    # Withdrawn by its author, straight out of review; a draft deleted.
    services.proposal_transition(proposal=reviewed, actor=alice, action="withdraw")
    services.proposal_transition(proposal=third, actor=bob, action="withdraw")
    services.proposal_delete_draft(proposal=draft, actor=alice)
    _agree(ana)
    assert not PanelScore.objects.filter(pk=reviewed.pk).exists()
    # Made in bulk, one statement (as seed_demo's loads are), and deleted in bulk.
    ProposalFactory.create_batch(3, submitter=alice, status=Status.IN_REVIEW)
    _agree(ana)
    Proposal.objects.filter(status=Status.IN_REVIEW, assessments__isnull=True).delete()
    _agree(ana)


@pytest.mark.django_db
def test_bulk_sql_writes_are_counted_once_per_statement_on_postgresql(
    require_postgres, alice, rita, ana
):
    """seed_demo loads with COPY and set-based SQL: the statement triggers see every row."""
    in_review(alice, rita, [rita], title="Scored later")
    ProposalFactory.create_batch(4, submitter=alice, status=Status.SUBMITTED)
    with connection.cursor() as cursor:
        # A copy of every proposal, in one INSERT … SELECT.
        columns = [f.column for f in Proposal._meta.concrete_fields]
        copied = [
            "md5(id::text || 'copy')::uuid"
            if c == "id"
            else "reference || '-C'"
            if c == "reference"
            else c
            for c in columns
        ]
        cursor.execute(
            f"INSERT INTO proposals_proposal ({', '.join(columns)}) "  # noqa: S608 -- our own names
            f"SELECT {', '.join(copied)} FROM proposals_proposal"
        )
        _agree(ana)
        cursor.execute(
            "UPDATE proposals_proposal SET status = 'in_review' WHERE status = 'submitted'"
        )
        _agree(ana)
        cursor.execute("DELETE FROM proposals_proposal WHERE reference LIKE '%%-C'")
        _agree(ana)


# --- fixed query counts ----------------------------------------------------------------------


def _queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(ctx.captured_queries)


def _grow(alice: User, rita: User, ravi: User, n: int) -> None:
    theme = Theme.objects.order_by("pk")[0]
    for i in range(n):
        ProposalFactory.create(
            submitter=alice, submitted_at=timezone.now() - dt.timedelta(days=40 + i)
        ).themes.add(theme)
        proposal = in_review(alice, rita, [rita, ravi], title=f"Reviewed {i}")
        proposal.themes.add(theme)
        assess(proposal, ravi, 1 + i % 5)
        assess(proposal, rita, 5 - i % 5)


# (who, address) → the page's queries. Every signed-in page: the session, the
# user and their department (3), and the session's save (3: a savepoint, the
# UPDATE, its release).
PAGES = {
    # The queue's page (1), the counts (1), the overdue counted to the cap (1),
    # assigned to you (1), the filter form's themes and challenges (2), the panel
    # for the bulk accept (1).
    ("rita", "/review/"): 13,
    # The same, with the theme checked (1) and the filtered total counted to the
    # cap (1); no bulk accept form on an empty page (-1).
    ("rita", "/review/?theme=digital&cost_band=10k_50k&page=2"): 14,
    # The sheet's page (1), the total (1), the hidden ones (1), the form's themes (1).
    ("lena", "/review/panel/"): 10,
    # The same, with the theme checked (1).
    ("lena", "/review/panel/?stage=ready&theme=digital&assigned=on&page=2"): 11,
    ("lena", "/review/panel/?stage=unscored"): 10,
    ("lena", "/review/panel/?stage=bogus"): 10,
}


@pytest.mark.django_db
def test_review_pages_run_a_fixed_number_of_queries_at_any_size(alice, rita, ravi, lena):
    people = {"rita": rita, "lena": lena}
    _grow(alice, rita, ravi, 2)
    small = {key: _queries(_client(people[key[0]]), key[1]) for key in PAGES}
    _grow(alice, rita, ravi, 30)
    large = {key: _queries(_client(people[key[0]]), key[1]) for key in PAGES}
    assert small == large == PAGES


# --- the panel sheet's filters ------------------------------------------------------------------


def _sheet(client: Client, query: str = "") -> str:
    response = client.get(f"/review/panel/{query}")
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.django_db
def test_the_panel_sheet_filters_by_stage_theme_and_assignment(alice, rita, ravi, lena, dfe):
    dfe.min_assessments = 2
    dfe.save()
    lena.refresh_from_db()
    theme = Theme.objects.order_by("pk")[0]
    agreed = in_review(alice, rita, [rita, ravi], title="Agreed idea")
    assess(agreed, rita, 4)
    assess(agreed, ravi, 4)
    split = in_review(alice, rita, [rita, ravi], title="Split idea")
    assess(split, rita, 5)
    assess(split, ravi, 1)
    split.themes.add(theme)
    # Lena has her own assessment to submit: she sees it only in the hidden list.
    in_review(alice, rita, [lena], title="Waiting idea")
    half = in_review(alice, rita, [rita], title="Half-scored idea")
    assess(half, rita, 2)
    client = _client(lena)

    def ranked(query: str = "") -> list[str]:
        page = _sheet(client, query)
        table = page.split("Scores you cannot see yet")[0]
        titles = ("Agreed idea", "Split idea", "Waiting idea", "Half-scored idea")
        return sorted((t for t in titles if t in table), key=table.index)

    assert ranked() == ["Agreed idea", "Split idea", "Half-scored idea"]
    assert "Waiting idea" in _sheet(client).split("Scores you cannot see yet")[1]
    assert ranked("?stage=moderation") == ["Split idea"]
    # Two are needed: the half-scored one is still awaiting.
    assert ranked("?stage=awaiting") == ["Half-scored idea"]
    assert ranked("?stage=ready") == ["Agreed idea"]
    assert ranked(f"?theme={theme.slug}") == ["Split idea"]
    assert ranked("?assigned=on") == []  # lena's own is hidden until she scores it
    assert "1 proposal in review matches your filters." in _sheet(client, "?stage=moderation")
    assert "4 proposals in review." in _sheet(client)

    unscored = in_review(alice, rita, [rita], title="Unscored idea")
    assert unscored.pk
    assert ranked("?stage=unscored") == []  # titles above only
    assert "Unscored idea" in _sheet(client, "?stage=unscored")


@pytest.mark.django_db
def test_the_panel_sheet_says_what_is_wrong_with_a_filter_in_plain_english(lena):
    page = _sheet(_client(lena), "?stage=bogus&theme=nothing-like-this")
    assert "There is a problem" in page
    assert "Select a stage from the list" in page
    assert "Select a theme from the list" in page
    assert "<title>Error: Panel sheet" in page


@pytest.mark.django_db
def test_pages_keep_their_filters_and_counts_stop_at_the_cap(monkeypatch, alice, rita, lena):
    monkeypatch.setattr(dashboards, "COUNT_CAP", 3)
    ProposalFactory.create_batch(30, submitter=alice, status=Status.IN_REVIEW)
    ProposalFactory.create_batch(
        30,
        submitter=alice,
        cost_band="10k_50k",
        submitted_at=timezone.now() - dt.timedelta(days=60),
    )
    client = _client(lena)
    first = _sheet(client, "?stage=unscored")
    # The total of a filtered sheet is counted only as far as the cap.
    assert "More than 3 proposals in review match your filters." in first
    # The unfiltered total is the counter's, exact.
    assert "30 proposals in review." in _sheet(client)
    assert 'href="/review/panel/?stage=unscored&amp;page=2" rel="next"' in first
    second = _sheet(client, "?stage=unscored&page=2")
    assert 'href="/review/panel/?stage=unscored&amp;page=1" rel="prev"' in second
    queue = _client(rita).get("/review/?cost_band=10k_50k").content.decode()
    assert "More than 3 waiting, more than 3 over the target" in queue
    assert (
        "30 waiting, more than 3 over the target" in _client(rita).get("/review/").content.decode()
    )


@pytest.mark.django_db
def test_the_counting_triggers_are_in_place():
    """A later migration that rebuilds a table on SQLite drops its triggers: this says so."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
            expected = {
                f"review_{table}_{op}"
                for table in ("proposal", "assessment")
                for op in ("ins", "del", "upd")
            }
        else:
            cursor.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")
            expected = {
                f"proposals_{kind}_{op}"
                for kind in ("review", "panel")
                for op in ("ins", "del", "upd")
            }
        assert expected <= {row[0] for row in cursor.fetchall()}
