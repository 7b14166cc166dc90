"""seed_demo into an empty PostgreSQL database (bulk.FreshLoad): indexes, foreign
keys and derived data made in bulk at the end, and the same database as the row
by row path would leave (issue 10, goal 5)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction

from accounts.models import Department
from proposals.management.commands import seed_demo
from proposals.management.demo.bulk import BulkWriter, FreshLoad
from proposals.models import Proposal, ProposalChange, Support

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("require_postgres")]

SIZE = 300
# Columns that do not depend on when the seed ran (its clock moves the timestamps);
# people and challenges by name (the undone run's had other ids).
WRITTEN = {
    "proposals_proposal": "id, reference, title, summary, problem, proposed_solution,"
    " cost_band, estimated_benefit_gbp, hours_saved_per_year, department_id,"
    " (SELECT email FROM accounts_user u WHERE u.id = submitter_id),"
    " (SELECT slug FROM proposals_challenge c WHERE c.id = challenge_id),"
    " visibility, status, merged_into_id, feedback_released, next_step, version",
    "proposals_auditevent": "proposal_id, proposal_reference, action, object_type,"
    " (SELECT email FROM accounts_user u WHERE u.id = actor_id),"
    " object_id, changes::text, audience",
    "proposals_assessment": "id, proposal_id, conflict_declared, recommendation,"
    " (SELECT email FROM accounts_user u WHERE u.id = assessor_id),"
    " weighted_score",
    "proposals_score": "assessment_id, criterion_id, score, comment",
    "proposals_metric": "id, experiment_id, name, unit, baseline, target, direction",
    "proposals_metricactual": "outcome_id, metric_id, value",
    "proposals_evaluationplan": "experiment_id, evaluation_types::text, impact_designs::text,"
    " cost_gbp, report_link",
    "proposals_proposal_themes": "proposal_id, theme_id",
}


def _rows(sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _same_meaning(definition: str) -> str:
    """An index definition without its casts and brackets: PostgreSQL prints a
    recreated partial index's `IN (…)` with the casts moved inside the array,
    the same index written another way."""
    return re.sub(r"::[a-z ]+(\[\])?|[()]", "", definition)


def _schema() -> dict[str, set[tuple[Any, ...]]]:
    """Every index, constraint and trigger of the schema, as the catalog defines it."""
    return {
        "indexes": {
            (table, name, _same_meaning(definition))
            for table, name, definition in _rows(
                "SELECT tablename, indexname, indexdef FROM pg_indexes"
                " WHERE schemaname = current_schema()"
            )
        },
        "constraints": set(
            _rows(
                "SELECT conrelid::regclass::text, conname, contype, pg_get_constraintdef(oid),"
                " condeferrable, condeferred, convalidated FROM pg_constraint"
                " WHERE connamespace = current_schema()::regnamespace"
            )
        ),
        "triggers": set(
            _rows(
                "SELECT tgrelid::regclass::text, tgname, tgenabled FROM pg_trigger"
                " WHERE NOT tgisinternal"
            )
        ),
    }


def _index_oids() -> dict[str, int]:
    return dict(
        _rows(
            "SELECT indexrelid::regclass::text, indexrelid::int FROM pg_index"
            " WHERE indrelid = ANY(%s::regclass[])",
            [[m._meta.db_table for m in BulkWriter.ORDER]],
        )
    )


def _state() -> dict[str, Any]:
    """What the load leaves: derived columns per proposal, and the change feed."""
    return {
        "vectors": dict(_rows("SELECT id, search_vector::text FROM proposals_proposal")),
        "support_counts": dict(Proposal.objects.values_list("id", "support_count")),
        "supports": {
            pid: Support.objects.filter(proposal_id=pid).count()
            for pid in Proposal.objects.values_list("id", flat=True)
        },
        # Values of every kind a COPY writes (uuid, text, JSON, decimal, date, bool…).
        "written": {
            table: sorted(_rows(f"SELECT {columns} FROM {table}"), key=repr)  # noqa: S608
            for table, columns in WRITTEN.items()
        },
        "feed": sorted(
            _rows(
                "SELECT proposal_id, reference, xid = pg_current_xact_id()::text::bigint"
                " FROM proposals_proposalchange"
            )
        ),
    }


class _Undo(Exception):
    pass


def _row_by_row_seed(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The same seed through the row by row path (triggers on), then undone."""
    with monkeypatch.context() as patch:
        patch.setattr(FreshLoad, "applies", staticmethod(lambda: False))
        try:
            with transaction.atomic():
                call_command("seed_demo", proposals=SIZE)
                state = _state()
                raise _Undo
        except _Undo:
            pass
    assert not Proposal.objects.exists()
    return state


def test_a_fresh_load_makes_every_index_constraint_and_trigger_again(settings, reference_data):
    settings.DEMO_PASSWORD = "innovate-demo"
    before, oids = _schema(), _index_oids()
    assert FreshLoad.applies()

    call_command("seed_demo", proposals=SIZE)

    assert Proposal.objects.count() == SIZE
    assert _schema() == before  # the same definitions, valid, and every trigger enabled
    assert not any(state == "D" for _, _, state in before["triggers"])
    # …made again (new objects), not left in place: the fresh path ran.
    after = _index_oids()
    remade = [name for name, oid in oids.items() if after[name] != oid]
    assert "proposal_search_gin" in remade
    assert "proposals_support_proposal_id_ebf8ae1d" in remade
    assert after["proposals_proposal_pkey"] == oids["proposals_proposal_pkey"]  # kept


def test_a_fresh_load_leaves_what_the_row_by_row_path_leaves(settings, reference_data, monkeypatch):
    settings.DEMO_PASSWORD = "innovate-demo"
    row_by_row = _row_by_row_seed(monkeypatch)

    call_command("seed_demo", proposals=SIZE)

    fresh = _state()
    # The same seed makes the same proposals (ids are drawn from the seeded random).
    assert fresh["vectors"].keys() == row_by_row["vectors"].keys()
    # Search vectors as the trigger wrote them, and as it would write them now.
    assert fresh["vectors"] == row_by_row["vectors"]
    assert all(fresh["vectors"].values())
    mismatched = _rows(
        "SELECT count(*) FROM proposals_proposal WHERE search_vector IS DISTINCT FROM"
        " proposals_search_document(reference, title, summary, problem,"
        " who_has_the_problem, proposed_solution, expected_benefits)"
    )
    assert mismatched == [(0,)]
    with connection.cursor() as cursor:
        cursor.execute("UPDATE proposals_proposal SET title = title")  # the trigger, again
    assert _state()["vectors"] == fresh["vectors"]
    # Support counts: the supports, counted.
    assert fresh["support_counts"] == fresh["supports"] == row_by_row["supports"]
    assert sum(fresh["supports"].values()) > 0
    assert fresh["written"] == row_by_row["written"]
    assert all(fresh["written"].values())
    # The feed: one row per proposal, with its reference, in the seed's transaction.
    assert fresh["feed"] == row_by_row["feed"]
    assert len(fresh["feed"]) == SIZE
    assert all(in_this_transaction for _, _, in_this_transaction in fresh["feed"])


def test_an_empty_database_only_is_loaded_in_bulk(settings, reference_data):
    settings.DEMO_PASSWORD = "innovate-demo"
    call_command("seed_demo", proposals=40)
    oids = _index_oids()
    assert not FreshLoad.applies()

    call_command("seed_demo", proposals=80)  # a top-up: row by row, indexes kept

    assert _index_oids() == oids
    assert Proposal.objects.count() == 80
    assert ProposalChange.objects.count() == 80


def test_a_fresh_load_that_fails_writes_nothing_and_keeps_the_schema(settings, reference_data):
    """Two departments with one reference prefix: the references collide, found when
    the unique index is made again at the end, and all of it is undone."""
    settings.DEMO_PASSWORD = "innovate-demo"
    Department.objects.filter(slug="home-office").update(acronym="DFE")
    before = _schema()

    with pytest.raises(CommandError) as failed:
        call_command("seed_demo", proposals=SIZE)

    assert str(failed.value).startswith(
        "seed_demo could not write the demo data, so it wrote nothing:"
    )
    assert "proposals_proposal_reference_key" in str(failed.value)
    assert not Proposal.objects.exists()
    assert _schema() == before


def test_a_fresh_load_in_chunks_gives_each_proposal_the_functions_vector(
    settings, reference_data, monkeypatch
):
    """Later chunks find most of their texts' vectors already parsed (the load's
    memo): every vector is still the function's, every count the supports', and
    the feed has each proposal once."""
    settings.DEMO_PASSWORD = "innovate-demo"
    monkeypatch.setattr(seed_demo, "CHUNK", 70)

    call_command("seed_demo", proposals=SIZE)

    assert Proposal.objects.count() == SIZE
    assert _rows(
        "SELECT count(*) FROM proposals_proposal WHERE search_vector IS DISTINCT FROM"
        " proposals_search_document(reference, title, summary, problem,"
        " who_has_the_problem, proposed_solution, expected_benefits)"
    ) == [(0,)]
    assert _rows(
        "SELECT count(*) FROM proposals_proposal p WHERE support_count <>"
        " (SELECT count(*) FROM proposals_support s WHERE s.proposal_id = p.id)"
    ) == [(0,)]
    assert _rows("SELECT count(*), count(DISTINCT proposal_id) FROM proposals_proposalchange") == [
        (SIZE, SIZE)
    ]


def test_a_fresh_load_whose_maker_fails_writes_nothing_and_keeps_the_schema(
    settings, reference_data, monkeypatch
):
    """The chunks are made in a child process: its failure is raised here, with its
    traceback, and the load is undone as any other failure is."""
    settings.DEMO_PASSWORD = "innovate-demo"
    before = _schema()

    def broken(*args: Any, **kwargs: Any) -> None:
        raise ValueError("no ideas today")

    monkeypatch.setattr(seed_demo.Command, "_experiment", broken)

    with pytest.raises(RuntimeError, match="no ideas today"):
        call_command("seed_demo", proposals=SIZE)

    assert not Proposal.objects.exists()
    assert _schema() == before


def test_a_fresh_load_s_maker_may_not_query(settings, reference_data, monkeypatch):
    """The child shares its parent's connection, mid-transaction: a query there is
    refused rather than sent into the parent's session."""
    settings.DEMO_PASSWORD = "innovate-demo"

    def querying(self: Any, ctx: Any, w: Any, plan: Any) -> None:
        Department.objects.count()

    monkeypatch.setattr(seed_demo.Command, "_proposal", querying)

    with pytest.raises(RuntimeError, match="made a query on its parent's connection"):
        call_command("seed_demo", proposals=SIZE)

    assert not Proposal.objects.exists()
