"""`government_wide` on experiments and outcomes is kept by the database.

Since 0023 the services that change a proposal's status or visibility wrote
the flag in their transaction. That left it to every writer to remember: a
fixture, a data migration or a bulk update that made a proposal
department-only, and forgot, would have left its experiments and lessons in
every analyst's lists. Now triggers keep it, whatever makes the change, as
they keep the review counters (0019) and the change feed (0006):

- an experiment's flag is its proposal's `selectors.government_wide()`,
  worked out on every insert and update of the experiment, so nothing can
  write another value;
- an outcome's is its experiment's proposal's, likewise;
- a proposal whose status or visibility moves it in or out of the rule
  updates its experiments' and outcomes' rows, which work the flag out again.

The rule in SQL is `proposals_government_wide(status, visibility)`, tested
against the rule in Python (`selectors.is_government_wide`) for every status
and visibility (tests/proposals/test_government_wide.py). `seed_demo`'s fresh
load turns these triggers off while it loads, as it does the feed's, and writes
the flag itself by the same rule.
"""

from django.db import migrations

PG_RULE = """
CREATE OR REPLACE FUNCTION proposals_government_wide(status text, visibility text)
RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT status <> 'draft' AND visibility = 'government'
$$;
"""

PG_FUNCTIONS = """
CREATE OR REPLACE FUNCTION proposals_experiment_wide() RETURNS trigger AS $$
BEGIN
  NEW.government_wide := coalesce((
    SELECT proposals_government_wide(p.status, p.visibility)
    FROM proposals_proposal p WHERE p.id = NEW.proposal_id), false);
  RETURN NEW;
END $$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION proposals_outcome_wide() RETURNS trigger AS $$
BEGIN
  NEW.government_wide := coalesce((
    SELECT proposals_government_wide(p.status, p.visibility)
    FROM proposals_experiment e JOIN proposals_proposal p ON p.id = e.proposal_id
    WHERE e.id = NEW.experiment_id), false);
  RETURN NEW;
END $$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION proposals_proposal_wide() RETURNS trigger AS $$
BEGIN
  -- The rows work their flag out again (the triggers above): only they write it.
  UPDATE proposals_experiment SET government_wide = government_wide
  WHERE proposal_id = NEW.id;
  UPDATE proposals_outcome SET government_wide = government_wide
  WHERE experiment_id IN (SELECT id FROM proposals_experiment WHERE proposal_id = NEW.id);
  RETURN NULL;
END $$ LANGUAGE plpgsql;
"""

PG_TRIGGERS = """
CREATE TRIGGER proposals_experiment_wide BEFORE INSERT OR UPDATE ON proposals_experiment
  FOR EACH ROW EXECUTE FUNCTION proposals_experiment_wide();
CREATE TRIGGER proposals_outcome_wide BEFORE INSERT OR UPDATE ON proposals_outcome
  FOR EACH ROW EXECUTE FUNCTION proposals_outcome_wide();
CREATE TRIGGER proposals_proposal_wide AFTER UPDATE OF status, visibility ON proposals_proposal
  FOR EACH ROW
  WHEN (proposals_government_wide(OLD.status, OLD.visibility)
        IS DISTINCT FROM proposals_government_wide(NEW.status, NEW.visibility))
  EXECUTE FUNCTION proposals_proposal_wide();
"""

PG_DROP = """
DROP TRIGGER IF EXISTS proposals_experiment_wide ON proposals_experiment;
DROP TRIGGER IF EXISTS proposals_outcome_wide ON proposals_outcome;
DROP TRIGGER IF EXISTS proposals_proposal_wide ON proposals_proposal;
DROP FUNCTION IF EXISTS proposals_experiment_wide();
DROP FUNCTION IF EXISTS proposals_outcome_wide();
DROP FUNCTION IF EXISTS proposals_proposal_wide();
DROP FUNCTION IF EXISTS proposals_government_wide(text, text);
"""

# Any row that disagrees with the rule now (0023 and the services wrote them by
# it, so normally none): only those are written, so the change feed logs no
# change that did not happen.
PG_BACKFILL = """
UPDATE proposals_experiment e SET government_wide = government_wide
WHERE e.government_wide IS DISTINCT FROM coalesce((
  SELECT proposals_government_wide(p.status, p.visibility)
  FROM proposals_proposal p WHERE p.id = e.proposal_id), false);
UPDATE proposals_outcome o SET government_wide = government_wide
WHERE o.government_wide IS DISTINCT FROM coalesce((
  SELECT proposals_government_wide(p.status, p.visibility)
  FROM proposals_experiment e JOIN proposals_proposal p ON p.id = e.proposal_id
  WHERE e.id = o.experiment_id), false);
"""

# --- SQLite ------------------------------------------------------------------------------------
# A SQLite trigger cannot change the row being written, so each writes the flag
# just after, by the same rule, and only where it differs (so a service's row,
# written right, is not written twice). Recursive triggers are off: that write
# does not fire its own trigger again. A later migration that makes SQLite
# rebuild one of these tables drops its triggers and must make them again
# (`sqlite_triggers`), as 0020 and 0023 do for the change feed's. Written out
# in full, 'draft' and 'government' as stored (a migration must not change
# when the code does): this is the SQL that runs.


def sqlite_triggers() -> list[str]:
    return [
        """CREATE TRIGGER IF NOT EXISTS experiment_wide_insert AFTER INSERT
ON proposals_experiment
BEGIN
  UPDATE proposals_experiment SET government_wide = coalesce((
    SELECT p.status <> 'draft' AND p.visibility = 'government'
    FROM proposals_proposal p WHERE p.id = proposals_experiment.proposal_id), 0)
  WHERE id = NEW.id AND government_wide IS NOT coalesce((
    SELECT p.status <> 'draft' AND p.visibility = 'government'
    FROM proposals_proposal p WHERE p.id = proposals_experiment.proposal_id), 0);
END""",
        """CREATE TRIGGER IF NOT EXISTS outcome_wide_insert AFTER INSERT ON proposals_outcome
BEGIN
  UPDATE proposals_outcome SET government_wide = coalesce((
    SELECT p.status <> 'draft' AND p.visibility = 'government'
    FROM proposals_experiment e JOIN proposals_proposal p ON p.id = e.proposal_id
    WHERE e.id = proposals_outcome.experiment_id), 0)
  WHERE id = NEW.id AND government_wide IS NOT coalesce((
    SELECT p.status <> 'draft' AND p.visibility = 'government'
    FROM proposals_experiment e JOIN proposals_proposal p ON p.id = e.proposal_id
    WHERE e.id = proposals_outcome.experiment_id), 0);
END""",
        """CREATE TRIGGER IF NOT EXISTS experiment_wide_update AFTER UPDATE
ON proposals_experiment
BEGIN
  UPDATE proposals_experiment SET government_wide = coalesce((
    SELECT p.status <> 'draft' AND p.visibility = 'government'
    FROM proposals_proposal p WHERE p.id = proposals_experiment.proposal_id), 0)
  WHERE id = NEW.id AND government_wide IS NOT coalesce((
    SELECT p.status <> 'draft' AND p.visibility = 'government'
    FROM proposals_proposal p WHERE p.id = proposals_experiment.proposal_id), 0);
END""",
        """CREATE TRIGGER IF NOT EXISTS outcome_wide_update AFTER UPDATE ON proposals_outcome
BEGIN
  UPDATE proposals_outcome SET government_wide = coalesce((
    SELECT p.status <> 'draft' AND p.visibility = 'government'
    FROM proposals_experiment e JOIN proposals_proposal p ON p.id = e.proposal_id
    WHERE e.id = proposals_outcome.experiment_id), 0)
  WHERE id = NEW.id AND government_wide IS NOT coalesce((
    SELECT p.status <> 'draft' AND p.visibility = 'government'
    FROM proposals_experiment e JOIN proposals_proposal p ON p.id = e.proposal_id
    WHERE e.id = proposals_outcome.experiment_id), 0);
END""",
        """CREATE TRIGGER IF NOT EXISTS proposal_wide_upd
AFTER UPDATE OF status, visibility ON proposals_proposal
WHEN (OLD.status <> 'draft' AND OLD.visibility = 'government')
  <> (NEW.status <> 'draft' AND NEW.visibility = 'government')
BEGIN
  UPDATE proposals_experiment SET government_wide = coalesce((
    SELECT p.status <> 'draft' AND p.visibility = 'government'
    FROM proposals_proposal p WHERE p.id = proposals_experiment.proposal_id), 0)
  WHERE proposal_id = NEW.id;
  UPDATE proposals_outcome SET government_wide = coalesce((
    SELECT p.status <> 'draft' AND p.visibility = 'government'
    FROM proposals_experiment e JOIN proposals_proposal p ON p.id = e.proposal_id
    WHERE e.id = proposals_outcome.experiment_id), 0)
  WHERE experiment_id IN (SELECT id FROM proposals_experiment WHERE proposal_id = NEW.id);
END""",
    ]


def sqlite_drop_triggers() -> list[str]:
    names = ("experiment_wide_insert", "experiment_wide_update", "outcome_wide_insert")
    names += ("outcome_wide_update", "proposal_wide_upd")
    return [f"DROP TRIGGER IF EXISTS {name}" for name in names]


SQLITE_BACKFILL = [
    """UPDATE proposals_experiment SET government_wide = coalesce((
    SELECT p.status <> 'draft' AND p.visibility = 'government'
    FROM proposals_proposal p WHERE p.id = proposals_experiment.proposal_id), 0)
WHERE government_wide IS NOT coalesce((
    SELECT p.status <> 'draft' AND p.visibility = 'government'
    FROM proposals_proposal p WHERE p.id = proposals_experiment.proposal_id), 0)""",
    """UPDATE proposals_outcome SET government_wide = coalesce((
    SELECT p.status <> 'draft' AND p.visibility = 'government'
    FROM proposals_experiment e JOIN proposals_proposal p ON p.id = e.proposal_id
    WHERE e.id = proposals_outcome.experiment_id), 0)
WHERE government_wide IS NOT coalesce((
    SELECT p.status <> 'draft' AND p.visibility = 'government'
    FROM proposals_experiment e JOIN proposals_proposal p ON p.id = e.proposal_id
    WHERE e.id = proposals_outcome.experiment_id), 0)""",
]


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in (PG_RULE, PG_FUNCTIONS, PG_TRIGGERS, PG_BACKFILL):
            schema_editor.execute(statement)
    else:
        for statement in [*sqlite_triggers(), *SQLITE_BACKFILL]:
            schema_editor.execute(statement)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_DROP)
    else:
        for statement in sqlite_drop_triggers():
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("proposals", "0023_government_wide"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
