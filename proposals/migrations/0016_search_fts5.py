"""Full-text search on SQLite (the embedded default): an FTS5 index over the
reference, the title and every answer, kept by triggers as PostgreSQL's
`search_vector` is (0002), so every writer keeps it right.

The index is a plain FTS5 table keyed by its own integer rowid, holding the
proposal's id in an UNINDEXED column: search joins on it, and since FTS5 cannot
look a row up by it, SQLite always drives a search from the index (MATCH once,
then each proposal by its primary key), never a proposal at a time.
`proposals_proposal_fts_key` maps the proposal's id to the FTS5 rowid, by
indexes, for the triggers. The proposal's own rowid is not used: SQLite may
renumber it (VACUUM, or a migration that rebuilds the table).

Nothing here runs on PostgreSQL. A later migration that makes SQLite rebuild
`proposals_proposal` drops its triggers: it must put them back with
`sqlite_triggers()` (tests/proposals/test_migrations.py checks they are there).
"""

import django.db.models.deletion
from django.db import migrations, models

# The searched columns, in the FTS5 table's order (bm25's weights in
# proposals.selectors follow it). Written out in full: this is the SQL that runs.


def sqlite_triggers() -> list[str]:
    return [
        """CREATE TRIGGER IF NOT EXISTS proposal_fts_ins AFTER INSERT ON proposals_proposal
BEGIN
  INSERT INTO proposals_proposal_fts_key (proposal_id) VALUES (NEW.id);
  INSERT INTO proposals_proposal_fts (rowid, proposal_id, reference, title, summary, problem, who_has_the_problem, proposed_solution, expected_benefits)
  VALUES ((SELECT k.id FROM proposals_proposal_fts_key k WHERE k.proposal_id = NEW.id),
    NEW.id, NEW.reference, NEW.title, NEW.summary, NEW.problem, NEW.who_has_the_problem, NEW.proposed_solution, NEW.expected_benefits);
END""",
        """CREATE TRIGGER IF NOT EXISTS proposal_fts_upd AFTER UPDATE OF
  reference, title, summary, problem, who_has_the_problem, proposed_solution, expected_benefits ON proposals_proposal
BEGIN
  DELETE FROM proposals_proposal_fts
  WHERE rowid = (SELECT k.id FROM proposals_proposal_fts_key k WHERE k.proposal_id = OLD.id);
  INSERT INTO proposals_proposal_fts (rowid, proposal_id, reference, title, summary, problem, who_has_the_problem, proposed_solution, expected_benefits)
  VALUES ((SELECT k.id FROM proposals_proposal_fts_key k WHERE k.proposal_id = NEW.id),
    NEW.id, NEW.reference, NEW.title, NEW.summary, NEW.problem, NEW.who_has_the_problem, NEW.proposed_solution, NEW.expected_benefits);
END""",
        """CREATE TRIGGER IF NOT EXISTS proposal_fts_del AFTER DELETE ON proposals_proposal
BEGIN
  DELETE FROM proposals_proposal_fts
  WHERE rowid = (SELECT k.id FROM proposals_proposal_fts_key k WHERE k.proposal_id = OLD.id);
  DELETE FROM proposals_proposal_fts_key WHERE proposal_id = OLD.id;
END""",
    ]


def sqlite_drop_triggers() -> list[str]:
    return [
        "DROP TRIGGER IF EXISTS proposal_fts_ins",
        "DROP TRIGGER IF EXISTS proposal_fts_upd",
        "DROP TRIGGER IF EXISTS proposal_fts_del",
    ]


CREATE = [
    "CREATE TABLE proposals_proposal_fts_key"
    " (id INTEGER PRIMARY KEY, proposal_id char(32) NOT NULL UNIQUE)",
    # porter over unicode61: "applications" finds "application"; accents fold.
    """CREATE VIRTUAL TABLE proposals_proposal_fts USING fts5(
  reference, title, summary, problem, who_has_the_problem, proposed_solution, expected_benefits,
  proposal_id UNINDEXED,
  tokenize = 'porter unicode61')""",
]
BACKFILL = [
    "INSERT INTO proposals_proposal_fts_key (proposal_id) SELECT id FROM proposals_proposal",
    """INSERT INTO proposals_proposal_fts (rowid, proposal_id, reference, title, summary, problem, who_has_the_problem, proposed_solution, expected_benefits)
SELECT k.id, p.id, p.reference, p.title, p.summary, p.problem, p.who_has_the_problem, p.proposed_solution, p.expected_benefits
FROM proposals_proposal p JOIN proposals_proposal_fts_key k ON k.proposal_id = p.id""",
]
DROP = [
    "DROP TABLE IF EXISTS proposals_proposal_fts",
    "DROP TABLE IF EXISTS proposals_proposal_fts_key",
]


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    for statement in [*CREATE, *BACKFILL, *sqlite_triggers()]:
        schema_editor.execute(statement)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    for statement in [*sqlite_drop_triggers(), *DROP]:
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("proposals", "0015_notification_kinds")]

    operations = [
        migrations.RunPython(forwards, backwards),
        # The tables as models (managed=False: created above, on SQLite only), so
        # search can join them.
        migrations.CreateModel(
            name="ProposalSearchText",
            fields=[
                (
                    "rowid",
                    models.IntegerField(db_column="rowid", primary_key=True, serialize=False),
                ),
                ("document", models.TextField(db_column="proposals_proposal_fts")),
                (
                    "proposal",
                    models.OneToOneField(
                        db_column="proposal_id",
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="search_text",
                        to="proposals.proposal",
                    ),
                ),
            ],
            options={"db_table": "proposals_proposal_fts", "managed": False},
        ),
    ]
