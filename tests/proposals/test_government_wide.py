"""`government_wide` on experiments and outcomes (migration 0023): their proposal
is `selectors.government_wide()`, an analyst's whole view, so an analyst's
experiments page and lessons library walk one partial index each. Triggers keep
it (migration 0024): the flag must equal the rule after every service and every
other writer that changes a proposal's status or visibility, no writer may give
a row another value, and an analyst must see by it exactly what the rule shows."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Exists, OuterRef, QuerySet
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from proposals import dashboards, selectors, services
from proposals.enums import Status, Visibility
from proposals.models import Experiment, Outcome, Proposal
from proposals.views._paging import CappedPaginator
from tests.factories import ProposalFactory
from tests.proposals.review_world import ANSWERS, approved, planned, with_outcome

pytestmark = pytest.mark.django_db


def _wide() -> QuerySet[Proposal]:
    return Proposal.objects.filter(selectors.government_wide())


def _disagreeing() -> list[str]:
    """Every experiment and outcome whose flag is not what the rule says of its proposal."""
    wide = _wide()
    experiments = Experiment.objects.annotate(rule=Exists(wide.filter(pk=OuterRef("proposal_id"))))
    outcomes = Outcome.objects.annotate(
        rule=Exists(wide.filter(experiments=OuterRef("experiment_id")))
    )
    return [f"experiment {e.pk}" for e in experiments if e.government_wide != e.rule] + [
        f"outcome {o.pk}" for o in outcomes if o.government_wide != o.rule
    ]


def test_the_rule_in_python_agrees_with_the_rule_in_sql(alice):
    made = {
        (status, visibility): ProposalFactory.create(
            submitter=alice, status=status, visibility=visibility
        ).pk
        for status, visibility in itertools.product(Status, Visibility)
    }
    in_sql = set(_wide().filter(pk__in=made.values()).values_list("pk", flat=True))

    for (status, visibility), pk in made.items():
        assert selectors.is_government_wide(status, visibility) == (pk in in_sql), (
            status,
            visibility,
        )


def test_the_rule_in_the_triggers_agrees_with_the_rule_in_python(alice, lena):
    """Migration 0024's triggers write the flag by their own copy of the rule (SQL
    on each database): for every status and visibility it is Python's."""
    for status, visibility in itertools.product(Status, Visibility):
        proposal = ProposalFactory.create(submitter=alice, status=status, visibility=visibility)
        experiment = Experiment.objects.create(
            proposal=proposal,
            title="Pilot",
            we_believe="-",
            will_result_in="-",
            we_will_know_when="-",
            lead=lena,
            starts_on="2026-01-05",
            ends_on="2026-02-05",
        )
        assert Experiment.objects.get(pk=experiment.pk).government_wide == (
            selectors.is_government_wide(status, visibility)
        ), (status, visibility)


def test_the_flag_follows_the_rule_through_every_service_that_changes_it(alice, rita, lena):
    shared = approved(alice, rita, lena, title="Shared")
    own = approved(alice, rita, lena, title="Department only", visibility=Visibility.DEPARTMENT)
    for proposal in (shared, own):
        experiment = planned(proposal, lena)  # experiment_plan
        with_outcome(experiment, lena)  # experiment_start, outcome_record, outcome_publish
        assert _disagreeing() == []
    assert Experiment.objects.get(proposal=shared).government_wide
    assert not Experiment.objects.get(proposal=own).government_wide
    assert Outcome.objects.get(experiment__proposal=shared).government_wide

    # No service gives a draft an experiment, but the transition and the edit keep
    # the flag whatever rows a proposal has: one written as the rule says of a draft.
    draft = services.proposal_create_draft(
        author=alice, data={**_answers(), "title": "Draft with rows"}
    )
    Experiment.objects.create(
        proposal=draft,
        title="Pilot",
        we_believe="-",
        will_result_in="-",
        we_will_know_when="-",
        lead=lena,
        starts_on="2026-01-05",
        ends_on="2026-02-05",
    )
    assert _disagreeing() == []

    draft = services.proposal_transition(proposal=draft, actor=alice, action="submit")
    assert _disagreeing() == []
    assert Experiment.objects.get(proposal=draft).government_wide

    draft = services.proposal_transition(
        proposal=draft, actor=rita, action="request_info", data={"message": "Costs?"}
    )
    draft = services.proposal_update(
        proposal=draft, actor=alice, data={"visibility": Visibility.DEPARTMENT}
    )
    assert _disagreeing() == []
    assert not Experiment.objects.get(proposal=draft).government_wide

    services.proposal_update(
        proposal=draft, actor=alice, data={"visibility": Visibility.GOVERNMENT}
    )
    assert _disagreeing() == []
    assert Experiment.objects.get(proposal=draft).government_wide


def test_the_flag_follows_a_proposal_changed_by_any_writer(alice, rita, lena):
    """Not only the services keep it (migration 0024): a plain update of the
    proposal — a data migration, a fixture, the shell — moves its experiment and
    its lesson out of analysts' lists and back."""
    shared = approved(alice, rita, lena, title="Shared")
    with_outcome(planned(shared, lena), lena)
    assert Outcome.objects.get(experiment__proposal=shared).government_wide

    Proposal.objects.filter(pk=shared.pk).update(visibility=Visibility.DEPARTMENT)
    assert _disagreeing() == []
    assert not Experiment.objects.get(proposal=shared).government_wide
    assert not Outcome.objects.get(experiment__proposal=shared).government_wide

    Proposal.objects.filter(pk=shared.pk).update(visibility=Visibility.GOVERNMENT)
    assert _disagreeing() == []
    assert Outcome.objects.get(experiment__proposal=shared).government_wide


def test_no_writer_can_give_a_row_another_flag(alice, rita, lena):
    own = approved(alice, rita, lena, title="Own", visibility=Visibility.DEPARTMENT)
    experiment = planned(own, lena)
    with_outcome(experiment, lena)

    Experiment.objects.filter(pk=experiment.pk).update(government_wide=True)
    Outcome.objects.filter(experiment=experiment).update(government_wide=True)
    assert _disagreeing() == []

    made = Experiment.objects.create(
        proposal=approved(alice, rita, lena, title="Shared"),
        title="Pilot",
        we_believe="-",
        will_result_in="-",
        we_will_know_when="-",
        lead=lena,
        starts_on="2026-01-05",
        ends_on="2026-02-05",
        government_wide=False,
    )
    assert Experiment.objects.get(pk=made.pk).government_wide
    assert _disagreeing() == []


def test_a_transition_that_keeps_the_rule_writes_no_flag(alice, rita):
    proposal = services.proposal_create_draft(author=alice, data=_answers())
    proposal = services.proposal_transition(proposal=proposal, actor=alice, action="submit")

    with CaptureQueriesContext(connection) as captured:
        services.proposal_transition(
            proposal=proposal, actor=rita, action="request_info", data={"message": "Costs?"}
        )

    assert not [q for q in captured if "government_wide" in q["sql"]]


def test_an_analyst_sees_by_the_flag_what_the_rule_shows(alice, rita, lena, ana, bob):
    for title, visibility in (("Shared", Visibility.GOVERNMENT), ("Own", Visibility.DEPARTMENT)):
        experiment = planned(approved(alice, rita, lena, title=title, visibility=visibility), lena)
        with_outcome(experiment, lena)
        planned(approved(alice, rita, lena, title=f"{title} 2", visibility=visibility), lena)
    by_rule = Experiment.objects.filter(proposal__in=_wide())

    for user in (ana, bob):
        assert set(selectors.experiments_visible_to(user)) == set(
            Experiment.objects.filter(proposal__in=selectors.proposals_visible_to(user))
        )
    assert set(selectors.experiments_visible_to(ana)) == set(by_rule)
    assert set(selectors.published_outcomes_visible_to(ana)) == set(
        Outcome.objects.filter(published=True, experiment__in=by_rule)
    )
    assert len(selectors.published_outcomes_visible_to(ana)) == 1
    assert len(dashboards.experiments_running_and_due(ana)) == 1  # "Shared 2"; "Shared" is done


def _answers() -> dict[str, str]:
    return dict(ANSWERS)


on_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the plans are PostgreSQL's (DATABASE_URL)"
)


def _plan(sql: str, params: Any) -> str:
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
def test_an_analysts_lists_and_counts_walk_the_flags_index_alone(ana: User, alice, rita, lena):
    with_outcome(planned(approved(alice, rita, lena), lena), lena)
    planned(approved(alice, rita, lena, title="Second"), lena)

    for index, rows in (
        ("outcome_published_gov_idx", dashboards.lessons(ana)),
        ("experiment_running_gov_idx", dashboards.experiments_running_and_due(ana)),
    ):
        paginator = CappedPaginator(rows, 20)
        count = paginator.rows.values("pk")[: paginator.cap + 1]
        for queryset in (rows[:20], count):
            plan = _plan(*queryset.query.sql_with_params())
            assert index in plan, plan
            assert "Sort" not in plan, plan
        # The count reads the index alone: no experiment, no proposal.
        count_plan = _plan(*count.query.sql_with_params())
        assert "proposals_proposal" not in count_plan, count_plan
        assert "Index Only Scan" in count_plan, count_plan


def test_the_seed_writes_the_flag_as_the_rule_says(settings, reference_data):
    settings.DEMO_PASSWORD = "innovate-demo"
    call_command("seed_demo", proposals=300)
    call_command("seed_demo", proposals=400)  # a top-up: row by row after a fresh load

    assert Experiment.objects.exists() and Outcome.objects.exists()
    assert Experiment.objects.filter(government_wide=False).exists()  # department-only ones
    assert _disagreeing() == []
