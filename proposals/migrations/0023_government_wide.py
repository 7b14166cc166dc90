"""The lessons library and the experiments page cost an analyst the same at
10,000 and 1,000,000 proposals (issue 10).

`government_wide` on experiments and outcomes: their proposal is
`selectors.government_wide()` (submitted, shared with all of government), an
analyst's whole view. Kept by the services that change a proposal's status or
visibility, in their transaction. With a partial index in each list's own
filter and order, an analyst's page and its capped count walk one index and
stop at the LIMIT; before, each of the 1,001 rows counted probed its
experiment and its proposal (50-75 ms at 1,000,000 proposals, 8-12 ms at
10,000). Existing rows are filled in here, from the same rule.

SQLite rebuilds both tables to add a NOT NULL column, which drops their
change-feed triggers: they come off first and go back after (as in 0020).
"""

import importlib

from django.db import migrations, models
from django.db.models import Exists, OuterRef


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


def _fill(apps, schema_editor):
    """Each experiment's and outcome's flag, from its proposal by the one rule."""
    from proposals.selectors import government_wide  # noqa: PLC0415 - the rule's one home

    proposal = apps.get_model("proposals", "Proposal")
    experiment = apps.get_model("proposals", "Experiment")
    outcome = apps.get_model("proposals", "Outcome")
    wide = proposal.objects.filter(government_wide())
    experiment.objects.filter(Exists(wide.filter(pk=OuterRef("proposal_id")))).update(
        government_wide=True
    )
    outcome.objects.filter(Exists(wide.filter(experiments=OuterRef("experiment_id")))).update(
        government_wide=True
    )


class Migration(migrations.Migration):
    dependencies = [
        ("proposals", "0022_proposal_created_idx"),
    ]

    operations = [
        migrations.RunPython(_drop_sqlite_feed, _create_sqlite_feed),
        migrations.AddField(
            model_name="experiment",
            name="government_wide",
            field=models.BooleanField(db_default=False, default=False, editable=False),
        ),
        migrations.AddField(
            model_name="outcome",
            name="government_wide",
            field=models.BooleanField(db_default=False, default=False, editable=False),
        ),
        migrations.RunPython(_fill, migrations.RunPython.noop),
        migrations.RunPython(_create_sqlite_feed, _drop_sqlite_feed),
        migrations.AddIndex(
            model_name="experiment",
            index=models.Index(
                condition=models.Q(
                    ("government_wide", True), ("status__in", ["planned", "running"])
                ),
                fields=["ends_on", "id"],
                name="experiment_running_gov_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="outcome",
            index=models.Index(
                condition=models.Q(("government_wide", True), ("published", True)),
                fields=["-published_at", "-id"],
                name="outcome_published_gov_idx",
            ),
        ),
    ]
