"""Search's indexes on PostgreSQL (nothing here changes the trigger or the vector).

A title typed in whole ranks first, however common its words: an index on
UPPER(title) (Django's `iexact`) finds it for the page's window of candidates.

A RUM index on `search_vector` in place of 0002's GIN one, only with
SEARCH_RUM=true and the `rum` extension installed (Debian's postgresql-15-rum;
.ci/run and the compose database install it). RUM keeps each lexeme's
positions and weights, so `ORDER BY search_vector <=> query LIMIT n` reads the
best n matches in rank order from the index; it serves `@@` too, so GIN goes
(one index to keep up on every write, not two). Off by default, as measured
(README, Search): inserting 30,000 vectors took 38 s into a RUM index against
1.8 s into GIN (whose pending list batches the work), which a million-row seed
cannot afford, and RUM's rank order costs more than the window for common
words. `proposals.selectors.search_uses_rum` looks for the index by name.

Nothing runs on SQLite (FTS5, 0016).
"""

from django.conf import settings
from django.db import DatabaseError, migrations, transaction

RUM_INDEX = "proposal_search_rum"
TITLE_INDEX = "proposal_title_upper"
GIN_INDEX = "proposal_search_gin"
RUM_INDEX_SQL = (
    f"CREATE INDEX IF NOT EXISTS {RUM_INDEX} ON proposals_proposal"
    " USING rum (search_vector rum_tsvector_ops)"
)


def _rum_installable(cursor) -> bool:
    cursor.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'rum'")
    return cursor.fetchone() is not None


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {TITLE_INDEX} ON proposals_proposal (UPPER(title::text))"
    )
    if not settings.SEARCH_RUM:
        return
    with schema_editor.connection.cursor() as cursor:
        if not _rum_installable(cursor):
            return
    try:
        # Installed but not ours to create (not a superuser): the GIN path stays.
        with transaction.atomic(using=schema_editor.connection.alias):
            schema_editor.execute("CREATE EXTENSION IF NOT EXISTS rum")
    except DatabaseError:
        return
    schema_editor.execute(RUM_INDEX_SQL)
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
    dependencies = [("proposals", "0017_seed_search_document")]

    operations = [migrations.RunPython(forwards, backwards)]
