"""Full-text search on PostgreSQL, and the themes and default criteria.

The search vector is kept by a trigger so that every writer (services, the
seed's bulk inserts, a data fix in psql) keeps it right, and searching never
re-parses text. SQLite has no tsvector: there search falls back to LIKE.
"""

from django.db import migrations

TRIGGER_SQL = """
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
DROP TRIGGER IF EXISTS proposals_proposal_search ON proposals_proposal;
CREATE TRIGGER proposals_proposal_search BEFORE INSERT OR UPDATE OF
  reference, title, summary, problem, who_has_the_problem, proposed_solution, expected_benefits
  ON proposals_proposal FOR EACH ROW EXECUTE FUNCTION proposals_proposal_search_update();
CREATE INDEX IF NOT EXISTS proposal_search_gin ON proposals_proposal USING gin (search_vector);
"""

DROP_SQL = """
DROP TRIGGER IF EXISTS proposals_proposal_search ON proposals_proposal;
DROP FUNCTION IF EXISTS proposals_proposal_search_update();
DROP INDEX IF EXISTS proposal_search_gin;
"""

THEMES = [
    ("automation", "Automation"),
    ("data-and-analytics", "Data and analytics"),
    ("ai", "Artificial intelligence"),
    ("digital-services", "Digital services"),
    ("procurement", "Procurement"),
    ("workforce-and-skills", "Workforce and skills"),
    ("citizen-services", "Citizen services"),
    ("sustainability", "Sustainability"),
]

# Innovate UK-style criteria every department starts with; leads reweight them.
CRITERIA = [
    ("User need", "How clearly the problem and who has it are evidenced", 3),
    ("Value for money", "Expected benefit against cost", 2),
    ("Feasibility", "Can it be tried quickly and safely", 2),
    ("Reusability", "Could other departments reuse it", 1),
]


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(TRIGGER_SQL)
    Theme = apps.get_model("proposals", "Theme")
    for slug, name in THEMES:
        Theme.objects.get_or_create(slug=slug, defaults={"name": name})
    Department = apps.get_model("accounts", "Department")
    Criterion = apps.get_model("proposals", "Criterion")
    for department in Department.objects.all():
        for position, (name, description, weight) in enumerate(CRITERIA):
            Criterion.objects.get_or_create(
                department=department,
                name=name,
                defaults={"description": description, "weight": weight, "position": position},
            )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_SQL)


class Migration(migrations.Migration):
    dependencies = [("proposals", "0001_initial"), ("accounts", "0002_load_departments")]
    operations = [migrations.RunPython(forwards, backwards)]
