"""The review dashboards' figures, kept by the database in the writer's transaction.

`proposals_status_count`: a department's proposals per status. `proposals_panel_score`:
one row per proposal in review with its panel's figures (mean, spread, how many
assessed, recommendations, conflicts), ranked by an index. Triggers on
proposals_proposal (insert, delete, and an update of status, department or
submission time) and on proposals_assessment keep both, so every writer — the
services, seed_demo's COPY, the admin, a raw UPDATE — keeps them exact.

On PostgreSQL, inserts and deletes fire once per statement with the statement's
rows (a COPY of 20,000 proposals is one grouped upsert, not 20,000); an update
fires per row, only when the status, department or submission time changed
(the WHEN clause, evaluated without calling the function). A status change
upserts its two counter rows in a fixed order, so two opposite changes in one
department wait for each other rather than deadlock. On SQLite (the embedded
default) the same by row triggers. Both are backfilled here, in the migration's
transaction: creating a trigger locks the table against writes until commit, so
nothing is missed between the trigger and the backfill.

A later migration that makes SQLite rebuild proposals_proposal or
proposals_assessment drops their triggers: put them back with `sqlite_triggers()`.
"""

import django.db.models.deletion
from django.db import migrations, models

# --- PostgreSQL --------------------------------------------------------------------------------

# The panel's figures for some proposals, from their assessments (a few rows each).
PG_REFRESH = """
CREATE OR REPLACE FUNCTION proposals_panel_refresh(ids uuid[]) RETURNS void AS $$
  UPDATE proposals_panel_score ps
  SET mean_score = a.mean, rank_score = COALESCE(a.mean, 0), max_score = a.high,
      min_score = a.low, assessments_done = a.done, fund = a.fund,
      do_not_fund = a.do_not_fund, conflicts = a.conflicts
  FROM (
    SELECT t.id,
      round(avg(s.weighted_score) FILTER (WHERE s.submitted_at IS NOT NULL), 3) AS mean,
      max(s.weighted_score) FILTER (WHERE s.submitted_at IS NOT NULL) AS high,
      min(s.weighted_score) FILTER (WHERE s.submitted_at IS NOT NULL) AS low,
      count(s.id) FILTER (WHERE s.submitted_at IS NOT NULL) AS done,
      count(s.id) FILTER (WHERE s.submitted_at IS NOT NULL AND s.recommendation = 'fund') AS fund,
      count(s.id) FILTER (WHERE s.submitted_at IS NOT NULL AND s.recommendation = 'do_not_fund')
        AS do_not_fund,
      count(s.id) FILTER (WHERE s.conflict_declared) AS conflicts
    FROM unnest(ids) AS t(id)
    LEFT JOIN proposals_assessment s ON s.proposal_id = t.id
    GROUP BY t.id
  ) a
  WHERE ps.proposal_id = a.id
$$ LANGUAGE sql;
"""

PG_PROPOSAL_ROWS = """
CREATE OR REPLACE FUNCTION proposals_review_rows() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO proposals_status_count AS c (department_id, status, count)
      SELECT department_id, status, count(*) FROM new_rows GROUP BY 1, 2 ORDER BY 1, 2
      ON CONFLICT (department_id, status) DO UPDATE SET count = c.count + EXCLUDED.count;
    INSERT INTO proposals_panel_score
        (proposal_id, department_id, submitted_at, rank_score, assessments_done, fund,
         do_not_fund, conflicts)
      SELECT id, department_id, submitted_at, 0, 0, 0, 0, 0 FROM new_rows
      WHERE status = 'in_review'
      ON CONFLICT (proposal_id) DO NOTHING;
  ELSE
    INSERT INTO proposals_status_count AS c (department_id, status, count)
      SELECT department_id, status, -count(*) FROM old_rows GROUP BY 1, 2 ORDER BY 1, 2
      ON CONFLICT (department_id, status) DO UPDATE SET count = c.count + EXCLUDED.count;
    DELETE FROM proposals_panel_score WHERE proposal_id IN (SELECT id FROM old_rows);
  END IF;
  RETURN NULL;
END $$ LANGUAGE plpgsql;
"""

PG_PROPOSAL_CHANGE = """
CREATE OR REPLACE FUNCTION proposals_review_change() RETURNS trigger AS $$
BEGIN
  IF (OLD.department_id, OLD.status) IS DISTINCT FROM (NEW.department_id, NEW.status) THEN
    -- Both rows in one statement, in key order: two transactions moving
    -- proposals in opposite directions take the row locks in the same order.
    INSERT INTO proposals_status_count AS c (department_id, status, count)
      SELECT d, s, n FROM (VALUES (OLD.department_id, OLD.status, -1),
                                  (NEW.department_id, NEW.status, 1)) AS v(d, s, n)
      ORDER BY d, s
      ON CONFLICT (department_id, status) DO UPDATE SET count = c.count + EXCLUDED.count;
  END IF;
  IF NEW.status <> 'in_review' THEN
    IF OLD.status = 'in_review' THEN
      DELETE FROM proposals_panel_score WHERE proposal_id = OLD.id;
    END IF;
  ELSIF OLD.status <> 'in_review' THEN
    INSERT INTO proposals_panel_score
        (proposal_id, department_id, submitted_at, rank_score, assessments_done, fund,
         do_not_fund, conflicts)
      VALUES (NEW.id, NEW.department_id, NEW.submitted_at, 0, 0, 0, 0, 0)
      ON CONFLICT (proposal_id) DO NOTHING;
    PERFORM proposals_panel_refresh(ARRAY[NEW.id]);
  ELSE
    UPDATE proposals_panel_score SET department_id = NEW.department_id,
      submitted_at = NEW.submitted_at WHERE proposal_id = NEW.id;
  END IF;
  RETURN NULL;
END $$ LANGUAGE plpgsql;
"""

PG_ASSESSMENT_ROWS = """
CREATE OR REPLACE FUNCTION proposals_panel_assessments() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    PERFORM proposals_panel_refresh(ARRAY(SELECT DISTINCT proposal_id FROM new_rows));
  ELSIF TG_OP = 'DELETE' THEN
    PERFORM proposals_panel_refresh(ARRAY(SELECT DISTINCT proposal_id FROM old_rows));
  ELSE
    PERFORM proposals_panel_refresh(ARRAY(
      SELECT proposal_id FROM new_rows UNION SELECT proposal_id FROM old_rows));
  END IF;
  RETURN NULL;
END $$ LANGUAGE plpgsql;
"""

PG_TRIGGERS = """
CREATE TRIGGER proposals_review_ins AFTER INSERT ON proposals_proposal
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION proposals_review_rows();
CREATE TRIGGER proposals_review_del AFTER DELETE ON proposals_proposal
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION proposals_review_rows();
CREATE TRIGGER proposals_review_upd AFTER UPDATE OF status, department_id, submitted_at
  ON proposals_proposal FOR EACH ROW
  WHEN (OLD.status IS DISTINCT FROM NEW.status
        OR OLD.department_id IS DISTINCT FROM NEW.department_id
        OR OLD.submitted_at IS DISTINCT FROM NEW.submitted_at)
  EXECUTE FUNCTION proposals_review_change();
CREATE TRIGGER proposals_panel_ins AFTER INSERT ON proposals_assessment
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
  EXECUTE FUNCTION proposals_panel_assessments();
CREATE TRIGGER proposals_panel_del AFTER DELETE ON proposals_assessment
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT
  EXECUTE FUNCTION proposals_panel_assessments();
CREATE TRIGGER proposals_panel_upd AFTER UPDATE ON proposals_assessment
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
  EXECUTE FUNCTION proposals_panel_assessments();
"""

PG_DROP = """
DROP TRIGGER IF EXISTS proposals_review_ins ON proposals_proposal;
DROP TRIGGER IF EXISTS proposals_review_del ON proposals_proposal;
DROP TRIGGER IF EXISTS proposals_review_upd ON proposals_proposal;
DROP TRIGGER IF EXISTS proposals_panel_ins ON proposals_assessment;
DROP TRIGGER IF EXISTS proposals_panel_del ON proposals_assessment;
DROP TRIGGER IF EXISTS proposals_panel_upd ON proposals_assessment;
DROP FUNCTION IF EXISTS proposals_review_rows();
DROP FUNCTION IF EXISTS proposals_review_change();
DROP FUNCTION IF EXISTS proposals_panel_assessments();
DROP FUNCTION IF EXISTS proposals_panel_refresh(uuid[]);
"""

PG_BACKFILL = """
INSERT INTO proposals_status_count (department_id, status, count)
  SELECT department_id, status, count(*) FROM proposals_proposal GROUP BY 1, 2;
INSERT INTO proposals_panel_score
    (proposal_id, department_id, submitted_at, rank_score, assessments_done, fund,
     do_not_fund, conflicts)
  SELECT id, department_id, submitted_at, 0, 0, 0, 0, 0 FROM proposals_proposal
  WHERE status = 'in_review';
SELECT proposals_panel_refresh(ARRAY(SELECT proposal_id FROM proposals_panel_score));
ANALYZE proposals_status_count;
ANALYZE proposals_panel_score;
"""

# --- SQLite ------------------------------------------------------------------------------------
# The same by row triggers, written out in full: this is the SQL that runs.


def sqlite_triggers() -> list[str]:
    return [
        """CREATE TRIGGER IF NOT EXISTS review_proposal_ins AFTER INSERT ON proposals_proposal
BEGIN
  INSERT INTO proposals_status_count (department_id, status, count)
  SELECT NEW.department_id, NEW.status, 1 WHERE true
  ON CONFLICT (department_id, status) DO UPDATE SET count = count + excluded.count;
  INSERT OR IGNORE INTO proposals_panel_score
    (proposal_id, department_id, submitted_at, rank_score, assessments_done, fund,
     do_not_fund, conflicts)
  SELECT NEW.id, NEW.department_id, NEW.submitted_at, 0, 0, 0, 0, 0
  WHERE NEW.status = 'in_review';
END""",
        """CREATE TRIGGER IF NOT EXISTS review_proposal_del AFTER DELETE ON proposals_proposal
BEGIN
  INSERT INTO proposals_status_count (department_id, status, count)
  SELECT OLD.department_id, OLD.status, -1 WHERE true
  ON CONFLICT (department_id, status) DO UPDATE SET count = count + excluded.count;
  DELETE FROM proposals_panel_score WHERE proposal_id = OLD.id;
END""",
        """CREATE TRIGGER IF NOT EXISTS review_proposal_upd
  AFTER UPDATE OF status, department_id, submitted_at ON proposals_proposal
  WHEN OLD.status IS NOT NEW.status OR OLD.department_id IS NOT NEW.department_id OR OLD.submitted_at IS NOT NEW.submitted_at
BEGIN
  INSERT INTO proposals_status_count (department_id, status, count)
  SELECT OLD.department_id, OLD.status, -1 WHERE OLD.status IS NOT NEW.status OR OLD.department_id IS NOT NEW.department_id
  ON CONFLICT (department_id, status) DO UPDATE SET count = count + excluded.count;
  INSERT INTO proposals_status_count (department_id, status, count)
  SELECT NEW.department_id, NEW.status, 1 WHERE OLD.status IS NOT NEW.status OR OLD.department_id IS NOT NEW.department_id
  ON CONFLICT (department_id, status) DO UPDATE SET count = count + excluded.count;
  DELETE FROM proposals_panel_score WHERE proposal_id = OLD.id AND NEW.status <> 'in_review';
  INSERT OR IGNORE INTO proposals_panel_score
    (proposal_id, department_id, submitted_at, rank_score, assessments_done, fund,
     do_not_fund, conflicts)
  SELECT NEW.id, NEW.department_id, NEW.submitted_at, 0, 0, 0, 0, 0
  WHERE NEW.status = 'in_review';
  UPDATE proposals_panel_score SET department_id = NEW.department_id,
    submitted_at = NEW.submitted_at WHERE proposal_id = NEW.id;
  UPDATE proposals_panel_score SET (mean_score, rank_score, max_score, min_score, assessments_done, fund,
    do_not_fund, conflicts) = (
  SELECT round(avg(weighted_score) FILTER (WHERE submitted_at IS NOT NULL), 3),
    coalesce(round(avg(weighted_score) FILTER (WHERE submitted_at IS NOT NULL), 3), 0),
    max(weighted_score) FILTER (WHERE submitted_at IS NOT NULL),
    min(weighted_score) FILTER (WHERE submitted_at IS NOT NULL),
    count(*) FILTER (WHERE submitted_at IS NOT NULL),
    count(*) FILTER (WHERE submitted_at IS NOT NULL AND recommendation = 'fund'),
    count(*) FILTER (WHERE submitted_at IS NOT NULL AND recommendation = 'do_not_fund'),
    count(*) FILTER (WHERE conflict_declared)
  FROM proposals_assessment WHERE proposal_id = NEW.id) WHERE proposal_id = NEW.id;
END""",
        """CREATE TRIGGER IF NOT EXISTS review_assessment_ins AFTER INSERT ON proposals_assessment
BEGIN
  UPDATE proposals_panel_score SET (mean_score, rank_score, max_score, min_score, assessments_done, fund,
    do_not_fund, conflicts) = (
  SELECT round(avg(weighted_score) FILTER (WHERE submitted_at IS NOT NULL), 3),
    coalesce(round(avg(weighted_score) FILTER (WHERE submitted_at IS NOT NULL), 3), 0),
    max(weighted_score) FILTER (WHERE submitted_at IS NOT NULL),
    min(weighted_score) FILTER (WHERE submitted_at IS NOT NULL),
    count(*) FILTER (WHERE submitted_at IS NOT NULL),
    count(*) FILTER (WHERE submitted_at IS NOT NULL AND recommendation = 'fund'),
    count(*) FILTER (WHERE submitted_at IS NOT NULL AND recommendation = 'do_not_fund'),
    count(*) FILTER (WHERE conflict_declared)
  FROM proposals_assessment WHERE proposal_id = NEW.proposal_id) WHERE proposal_id = NEW.proposal_id;
END""",
        """CREATE TRIGGER IF NOT EXISTS review_assessment_del AFTER DELETE ON proposals_assessment
BEGIN
  UPDATE proposals_panel_score SET (mean_score, rank_score, max_score, min_score, assessments_done, fund,
    do_not_fund, conflicts) = (
  SELECT round(avg(weighted_score) FILTER (WHERE submitted_at IS NOT NULL), 3),
    coalesce(round(avg(weighted_score) FILTER (WHERE submitted_at IS NOT NULL), 3), 0),
    max(weighted_score) FILTER (WHERE submitted_at IS NOT NULL),
    min(weighted_score) FILTER (WHERE submitted_at IS NOT NULL),
    count(*) FILTER (WHERE submitted_at IS NOT NULL),
    count(*) FILTER (WHERE submitted_at IS NOT NULL AND recommendation = 'fund'),
    count(*) FILTER (WHERE submitted_at IS NOT NULL AND recommendation = 'do_not_fund'),
    count(*) FILTER (WHERE conflict_declared)
  FROM proposals_assessment WHERE proposal_id = OLD.proposal_id) WHERE proposal_id = OLD.proposal_id;
END""",
        """CREATE TRIGGER IF NOT EXISTS review_assessment_upd AFTER UPDATE ON proposals_assessment
BEGIN
  UPDATE proposals_panel_score SET (mean_score, rank_score, max_score, min_score, assessments_done, fund,
    do_not_fund, conflicts) = (
  SELECT round(avg(weighted_score) FILTER (WHERE submitted_at IS NOT NULL), 3),
    coalesce(round(avg(weighted_score) FILTER (WHERE submitted_at IS NOT NULL), 3), 0),
    max(weighted_score) FILTER (WHERE submitted_at IS NOT NULL),
    min(weighted_score) FILTER (WHERE submitted_at IS NOT NULL),
    count(*) FILTER (WHERE submitted_at IS NOT NULL),
    count(*) FILTER (WHERE submitted_at IS NOT NULL AND recommendation = 'fund'),
    count(*) FILTER (WHERE submitted_at IS NOT NULL AND recommendation = 'do_not_fund'),
    count(*) FILTER (WHERE conflict_declared)
  FROM proposals_assessment WHERE proposal_id = OLD.proposal_id) WHERE proposal_id = OLD.proposal_id;
  UPDATE proposals_panel_score SET (mean_score, rank_score, max_score, min_score, assessments_done, fund,
    do_not_fund, conflicts) = (
  SELECT round(avg(weighted_score) FILTER (WHERE submitted_at IS NOT NULL), 3),
    coalesce(round(avg(weighted_score) FILTER (WHERE submitted_at IS NOT NULL), 3), 0),
    max(weighted_score) FILTER (WHERE submitted_at IS NOT NULL),
    min(weighted_score) FILTER (WHERE submitted_at IS NOT NULL),
    count(*) FILTER (WHERE submitted_at IS NOT NULL),
    count(*) FILTER (WHERE submitted_at IS NOT NULL AND recommendation = 'fund'),
    count(*) FILTER (WHERE submitted_at IS NOT NULL AND recommendation = 'do_not_fund'),
    count(*) FILTER (WHERE conflict_declared)
  FROM proposals_assessment WHERE proposal_id = NEW.proposal_id) WHERE proposal_id = NEW.proposal_id;
END""",
    ]


def sqlite_drop_triggers() -> list[str]:
    names = [
        "proposal_ins",
        "proposal_del",
        "proposal_upd",
        "assessment_ins",
        "assessment_del",
        "assessment_upd",
    ]
    return [f"DROP TRIGGER IF EXISTS review_{name}" for name in names]


SQLITE_BACKFILL = [
    """INSERT INTO proposals_status_count (department_id, status, count)
  SELECT department_id, status, count(*) FROM proposals_proposal GROUP BY 1, 2""",
    """INSERT INTO proposals_panel_score
    (proposal_id, department_id, submitted_at, rank_score, assessments_done, fund,
     do_not_fund, conflicts)
  SELECT id, department_id, submitted_at, 0, 0, 0, 0, 0 FROM proposals_proposal
  WHERE status = 'in_review'""",
    """UPDATE proposals_panel_score SET (mean_score, rank_score, max_score, min_score, assessments_done, fund,
    do_not_fund, conflicts) = (
  SELECT round(avg(weighted_score) FILTER (WHERE submitted_at IS NOT NULL), 3),
    coalesce(round(avg(weighted_score) FILTER (WHERE submitted_at IS NOT NULL), 3), 0),
    max(weighted_score) FILTER (WHERE submitted_at IS NOT NULL),
    min(weighted_score) FILTER (WHERE submitted_at IS NOT NULL),
    count(*) FILTER (WHERE submitted_at IS NOT NULL),
    count(*) FILTER (WHERE submitted_at IS NOT NULL AND recommendation = 'fund'),
    count(*) FILTER (WHERE submitted_at IS NOT NULL AND recommendation = 'do_not_fund'),
    count(*) FILTER (WHERE conflict_declared)
  FROM proposals_assessment WHERE proposal_id = proposals_panel_score.proposal_id)""",
]


def apply_forwards(schema_editor) -> None:
    """The triggers, then the backfill (also used to measure on a copy)."""
    if schema_editor.connection.vendor == "postgresql":
        for statement in (PG_REFRESH, PG_PROPOSAL_ROWS, PG_PROPOSAL_CHANGE, PG_ASSESSMENT_ROWS):
            schema_editor.execute(statement)
        schema_editor.execute(PG_TRIGGERS)
        schema_editor.execute(PG_BACKFILL)
    else:
        for statement in [*sqlite_triggers(), *SQLITE_BACKFILL]:
            schema_editor.execute(statement)


def forwards(apps, schema_editor):
    apply_forwards(schema_editor)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_DROP)
    else:
        for statement in sqlite_drop_triggers():
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_invitations"),
        ("proposals", "0018_search_rank"),
    ]

    operations = [
        migrations.CreateModel(
            name="PanelScore",
            fields=[
                (
                    "proposal",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="panel_score",
                        serialize=False,
                        to="proposals.proposal",
                    ),
                ),
                ("submitted_at", models.DateTimeField(null=True)),
                ("rank_score", models.DecimalField(decimal_places=3, default=0, max_digits=6)),
                ("mean_score", models.DecimalField(decimal_places=3, max_digits=6, null=True)),
                ("max_score", models.DecimalField(decimal_places=3, max_digits=5, null=True)),
                ("min_score", models.DecimalField(decimal_places=3, max_digits=5, null=True)),
                ("assessments_done", models.PositiveIntegerField(default=0)),
                ("fund", models.PositiveIntegerField(default=0)),
                ("do_not_fund", models.PositiveIntegerField(default=0)),
                ("conflicts", models.PositiveIntegerField(default=0)),
                (
                    "department",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="accounts.department",
                    ),
                ),
            ],
            options={
                "db_table": "proposals_panel_score",
                "indexes": [
                    models.Index(
                        fields=["department", "-rank_score", "submitted_at", "proposal"],
                        name="panel_score_rank_idx",
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="StatusCount",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("draft", "Draft"),
                            ("submitted", "Submitted"),
                            ("more_info", "More information needed"),
                            ("in_review", "In review"),
                            ("approved", "Approved"),
                            ("rejected", "Rejected"),
                            ("withdrawn", "Withdrawn"),
                            ("merged", "Merged"),
                            ("experimenting", "Experimenting"),
                            ("completed", "Completed"),
                        ],
                        max_length=20,
                    ),
                ),
                ("count", models.BigIntegerField(default=0)),
                (
                    "department",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="accounts.department",
                    ),
                ),
            ],
            options={
                "db_table": "proposals_status_count",
                "constraints": [
                    models.UniqueConstraint(
                        fields=("department", "status"), name="status_count_unique"
                    )
                ],
            },
        ),
        migrations.AddIndex(
            model_name="assessment",
            index=models.Index(
                condition=models.Q(("submitted_at__isnull", True)),
                fields=["assessor", "created_at", "id"],
                name="assessment_open_idx",
            ),
        ),
        migrations.RunPython(forwards, backwards),
    ]
