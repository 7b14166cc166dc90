"""Search in rank order on PostgreSQL: a RUM index on `search_vector` where the
`rum` extension is installed (Debian's postgresql-15-rum; .ci/run and the
compose database install it), else the GIN index of 0002 stays.

RUM keeps each lexeme's positions and weights in the index, so
`ORDER BY search_vector <=> query LIMIT n` reads the best n matches in rank
order from the index alone, however many rows match; `@@` is served by it too,
so the GIN index is dropped (one index to keep up on every write, not two).
`proposals.selectors.search_uses_rum` looks for the index by name and takes
the GIN path without it. Nothing here changes the trigger or the vector.

A title typed in whole ranks first, however common its words: an index on
UPPER(title) (Django's `iexact`) finds it for the page's window.

Nothing runs on SQLite (FTS5, 0016).
"""

from django.db import DatabaseError, migrations, transaction

RUM_INDEX = "proposal_search_rum"
TITLE_INDEX = "proposal_title_upper"
GIN_INDEX = "proposal_search_gin"


def _rum_installable(cursor) -> bool:
    cursor.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'rum'")
    return cursor.fetchone() is not None


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {TITLE_INDEX} ON proposals_proposal (UPPER(title::text))"
    )
    with schema_editor.connection.cursor() as cursor:
        if not _rum_installable(cursor):
            return
    try:
        # Installed but not ours to create (not a superuser): the GIN path stays.
        with transaction.atomic(using=schema_editor.connection.alias):
            schema_editor.execute("CREATE EXTENSION IF NOT EXISTS rum")
    except DatabaseError:
        return
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {RUM_INDEX} ON proposals_proposal"
        " USING rum (search_vector rum_tsvector_ops)"
    )
    schema_editor.execute(f"DROP INDEX IF EXISTS {GIN_INDEX}")


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {GIN_INDEX} ON proposals_proposal USING gin (search_vector)"
    )
    schema_editor.execute(f"DROP INDEX IF EXISTS {RUM_INDEX}")
    schema_editor.execute(f"DROP INDEX IF EXISTS {TITLE_INDEX}")
    # The extension stays: another database object may have come to use it.


class Migration(migrations.Migration):
    dependencies = [("proposals", "0016_search_fts5")]

    operations = [migrations.RunPython(forwards, backwards)]
