"""The lessons library, the experiments page and your home cost the same at
10,000 and 1,000,000 proposals (issue 10).

- Partial indexes in each list's own filter and order, so a page is an index
  walk stopped by its LIMIT: published outcomes newest first; planned and
  running experiments soonest end first; your proposals (and those waiting for
  you) newest first; your assessments still to submit, oldest first.
- `Experiment.awaiting_outcome`, kept by the services that stop an experiment
  and record its outcome, with a partial index of the flagged rows: "waiting
  for an outcome" no longer anti-joins every finished experiment with its
  outcome. Existing rows are filled in here. The column keeps its database
  default (false) so a bulk load that does not name it (seed_demo's COPY)
  still inserts.

SQLite rebuilds `proposals_experiment` to add a NOT NULL column, which drops its
change-feed triggers: they come off first and go back after (as in 0009).
"""

import importlib

from django.db import migrations, models


def _feed():
    # The change feed's trigger SQL lives with the migration that made it.
    return importlib.import_module("proposals.migrations.0006_change_feed")


def _drop_sqlite_feed(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for statement in _feed()._sqlite_drop():
            schema_editor.execute(statement)


def _create_sqlite_feed(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for statement in _feed()._sqlite_statements()[:-1]:
            schema_editor.execute(statement)


def _flag_awaiting(apps, schema_editor):
    """Stopped or completed experiments without an outcome are waiting for one."""
    experiment = apps.get_model("proposals", "Experiment")
    experiment.objects.filter(status__in=["stopped", "completed"], outcome__isnull=True).update(
        awaiting_outcome=True
    )


class Migration(migrations.Migration):
    dependencies = [
        ("proposals", "0019_review_status_counts"),
    ]

    operations = [
        migrations.RunPython(_drop_sqlite_feed, _create_sqlite_feed),
        migrations.AddField(
            model_name="experiment",
            name="awaiting_outcome",
            field=models.BooleanField(db_default=False, default=False, editable=False),
        ),
        migrations.RunPython(_flag_awaiting, migrations.RunPython.noop),
        migrations.RunPython(_create_sqlite_feed, _drop_sqlite_feed),
        migrations.AddIndex(
            model_name="experiment",
            index=models.Index(
                condition=models.Q(("status__in", ["planned", "running"])),
                fields=["ends_on", "id"],
                name="experiment_running_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="experiment",
            index=models.Index(
                condition=models.Q(("awaiting_outcome", True)),
                fields=["ends_on", "id"],
                name="experiment_awaiting_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="outcome",
            index=models.Index(
                condition=models.Q(("published", True)),
                fields=["-published_at", "-id"],
                name="outcome_published_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="proposal",
            index=models.Index(
                fields=["submitter", "-updated_at", "-id"], name="proposal_submitter_updated_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="proposal",
            index=models.Index(
                condition=models.Q(("status__in", ["draft", "more_info"])),
                fields=["submitter", "-updated_at", "-id"],
                name="proposal_submitter_waiting_idx",
            ),
        ),
    ]
