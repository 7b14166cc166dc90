"""Data migrations: what they do to rows already there."""

from __future__ import annotations

import importlib

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("proposals", "0004_portfolio_indexes")]
AFTER = [("proposals", "0005_webhook_attempts")]


@pytest.mark.django_db(transaction=True)
def test_old_delivery_errors_lose_their_network_detail(reference_data):
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    Department = old.get_model("accounts", "Department")
    Endpoint = old.get_model("proposals", "WebhookEndpoint")
    Delivery = old.get_model("proposals", "WebhookDelivery")
    endpoint = Endpoint.objects.create(
        department=Department.objects.get(slug="dfe"), url="https://h.example", secret="s"
    )
    errors = {
        "ConnectionError: HTTPConnectionPool(host='10.0.0.5', port=6379): Max retries "
        "exceeded (Caused by NewConnectionError('[Errno 111] Connection refused'))": (
            "Could not connect"
        ),
        "ReadTimeout: HTTPSConnectionPool(host='h.example', port=443): Read timed out.": (
            "Timed out"
        ),
        "h.example resolves to 10.0.0.5, a private or local address": (
            "Refused: the address is not on the public internet"
        ),
        "The endpoint answered 503": "Answered 503",
        "The endpoint has been switched off": "The endpoint has been switched off",
        "": "",
    }
    ids = {
        Delivery.objects.create(
            endpoint=endpoint, event="proposal.submitted", payload={}, last_error=old_error
        ).pk: new_error
        for old_error, new_error in errors.items()
    }

    try:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(AFTER)
        new = executor.loader.project_state(AFTER).apps.get_model("proposals", "WebhookDelivery")
        scrubbed = {pk: new.objects.get(pk=pk).last_error for pk in ids}
    finally:
        # Leave the schema as the other tests expect it: every migration applied.
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())

    assert scrubbed == ids


@pytest.mark.django_db
def test_every_table_the_change_feed_follows_keeps_its_triggers_after_every_migration():
    """SQLite drops a table's triggers when a migration rebuilds the table; a later
    migration that forgets to put the feed's back would silently stop the feed."""
    feed = importlib.import_module("proposals.migrations.0006_change_feed")
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT tbl_name FROM sqlite_master WHERE type = 'trigger'")
        else:
            cursor.execute(
                "SELECT DISTINCT c.relname FROM pg_trigger t"
                " JOIN pg_class c ON c.oid = t.tgrelid WHERE NOT t.tgisinternal"
            )
        triggered = {row[0] for row in cursor.fetchall()}
    assert set(feed.SOURCES) - triggered == set()


@pytest.mark.django_db
def test_the_sqlite_search_index_keeps_its_triggers_after_every_migration():
    """The FTS5 index (0016) is kept by triggers on proposals_proposal, which a later
    migration that rebuilds that table on SQLite drops unless it puts them back."""
    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL's search vector is kept by 0002's trigger")
    search = importlib.import_module("proposals.migrations.0016_search_fts5")
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        triggers = {row[0] for row in cursor.fetchall()}
    expected = {statement.split()[5] for statement in search.sqlite_triggers()}
    assert expected == {"proposal_fts_ins", "proposal_fts_upd", "proposal_fts_del"}
    assert expected <= triggers
