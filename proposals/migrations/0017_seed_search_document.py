"""A proposal's search document as one SQL function, `proposals_search_document`.

The trigger of 0002 keeps `search_vector` row by row; `seed_demo`'s fresh load
(proposals.management.demo.bulk.FreshLoad) leaves the trigger off and computes
the vectors of a million proposals in bulk. Both call this function, so the two
can never disagree: the vector is the same whichever path wrote the row.

PostgreSQL only (SQLite searches with FTS5, 0016).
"""

from django.db import migrations

# The expression of 0002, unchanged: reference and title weigh most, then the
# summary, the problem and the solution, then who has it and the benefits.
# IMMUTABLE (to_tsvector with a named configuration is), so PostgreSQL inlines it.
FUNCTION_SQL = """
CREATE OR REPLACE FUNCTION proposals_search_document(
  reference text, title text, summary text, problem text, who_has_the_problem text,
  proposed_solution text, expected_benefits text
) RETURNS tsvector LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT setweight(to_tsvector('english', coalesce(reference, '')), 'A')
      || setweight(to_tsvector('english', coalesce(title, '')), 'A')
      || setweight(to_tsvector('english', coalesce(summary, '')), 'B')
      || setweight(to_tsvector('english', coalesce(problem, '')), 'C')
      || setweight(to_tsvector('english', coalesce(who_has_the_problem, '')), 'D')
      || setweight(to_tsvector('english', coalesce(proposed_solution, '')), 'C')
      || setweight(to_tsvector('english', coalesce(expected_benefits, '')), 'D')
$$;
CREATE OR REPLACE FUNCTION proposals_proposal_search_update() RETURNS trigger AS $$
BEGIN
  NEW.search_vector := proposals_search_document(
    NEW.reference, NEW.title, NEW.summary, NEW.problem, NEW.who_has_the_problem,
    NEW.proposed_solution, NEW.expected_benefits);
  RETURN NEW;
END
$$ LANGUAGE plpgsql;
"""

# Back to 0002's trigger function, with the expression written inline.
REVERSE_SQL = """
CREATE OR REPLACE FUNCTION proposals_proposal_search_update() RETURNS trigger AS $$
BEGIN
  NEW.search_vector :=
      setweight(to_tsvector('english', coalesce(NEW.reference, '')), 'A')
   || setweight(to_tsvector('english', coalesce(NEW.title, '')), 'A')
   || setweight(to_tsvector('english', coalesce(NEW.summary, '')), 'B')
   || setweight(to_tsvector('english', coalesce(NEW.problem, '')), 'C')
   || setweight(to_tsvector('english', coalesce(NEW.who_has_the_problem, '')), 'D')
   || setweight(to_tsvector('english', coalesce(NEW.proposed_solution, '')), 'C')
   || setweight(to_tsvector('english', coalesce(NEW.expected_benefits, '')), 'D');
  RETURN NEW;
END
$$ LANGUAGE plpgsql;
DROP FUNCTION IF EXISTS proposals_search_document(text, text, text, text, text, text, text);
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FUNCTION_SQL)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(REVERSE_SQL)


class Migration(migrations.Migration):
    dependencies = [("proposals", "0016_search_fts5")]
    operations = [migrations.RunPython(forwards, backwards)]
