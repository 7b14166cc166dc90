"""Full-text search on SQLite (the embedded default): an FTS5 index over the
reference, the title and every answer, kept by triggers as PostgreSQL's
`search_vector` is (0002), so every writer keeps it right.

The index is a plain FTS5 table keyed by its own integer rowid, and
`proposals_proposal_fts_key` maps that rowid to the proposal's UUID. The
proposal's own rowid is not used: SQLite may renumber it (VACUUM, or a
migration that rebuilds the table), which would point the index at other rows.

Nothing here runs on PostgreSQL. A later migration that makes SQLite rebuild
`proposals_proposal` drops its triggers: it must put them back with
`sqlite_triggers()` (tests/proposals/test_migrations.py checks they are there).
"""

from django.db import migrations

# The searched columns, in the FTS5 table's order (bm25's weights in
# proposals.selectors follow it). Written out in full: this is the SQL that runs.


def sqlite_triggers() -> list[str]:
    return [
        """CREATE TRIGGER IF NOT EXISTS proposal_fts_ins AFTER INSERT ON proposals_proposal
BEGIN
  INSERT INTO proposals_proposal_fts_key (proposal_id) VALUES (NEW.id);
  INSERT INTO proposals_proposal_fts (rowid, reference, title, summary, problem, who_has_the_problem, proposed_solution, expected_benefits)
  VALUES ((SELECT k.id FROM proposals_proposal_fts_key k WHERE k.proposal_id = NEW.id),
    NEW.reference, NEW.title, NEW.summary, NEW.problem, NEW.who_has_the_problem, NEW.proposed_solution, NEW.expected_benefits);
END""",
        """CREATE TRIGGER IF NOT EXISTS proposal_fts_upd AFTER UPDATE OF
  reference, title, summary, problem, who_has_the_problem, proposed_solution, expected_benefits ON proposals_proposal
BEGIN
  DELETE FROM proposals_proposal_fts
  WHERE rowid = (SELECT k.id FROM proposals_proposal_fts_key k WHERE k.proposal_id = OLD.id);
  INSERT INTO proposals_proposal_fts (rowid, reference, title, summary, problem, who_has_the_problem, proposed_solution, expected_benefits)
  VALUES ((SELECT k.id FROM proposals_proposal_fts_key k WHERE k.proposal_id = NEW.id),
    NEW.reference, NEW.title, NEW.summary, NEW.problem, NEW.who_has_the_problem, NEW.proposed_solution, NEW.expected_benefits);
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
  tokenize = 'porter unicode61')""",
]
BACKFILL = [
    "INSERT INTO proposals_proposal_fts_key (proposal_id) SELECT id FROM proposals_proposal",
    """INSERT INTO proposals_proposal_fts (rowid, reference, title, summary, problem, who_has_the_problem, proposed_solution, expected_benefits)
SELECT k.id, p.reference, p.title, p.summary, p.problem, p.who_has_the_problem, p.proposed_solution, p.expected_benefits
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
    dependencies = [("proposals", "0010_webhook_secret_rotation")]

    operations = [migrations.RunPython(forwards, backwards)]
