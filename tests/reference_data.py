"""Reload the rows that data migrations create (departments, themes, default
criteria) for tests whose database is emptied between tests.

`transactional_db` (and so `live_server`) flushes every table after each test,
data-migration rows included. pytest-django's serialized rollback is meant to
restore them, and did when the browser tests ran alone; but in a full run
(with `db` tests first) the second browser test found no departments. Django
keeps the serialized data on the connection object, so a connection object
replaced during the run loses it (our guess: Playwright's event loop in the
test thread). Running the migrations' own functions again does not depend on
that, and costs a few milliseconds.
"""

from __future__ import annotations

import importlib

from django.apps import apps
from django.db import connection

from accounts.models import Department

MIGRATIONS = [
    ("accounts.migrations.0002_load_departments", "load"),
    ("proposals.migrations.0002_search_and_reference_data", "forwards"),
]


def load_reference_data() -> None:
    """Load departments, themes and criteria if the tables are empty."""
    if Department.objects.exists():
        return
    with connection.schema_editor() as schema_editor:
        for module_name, function in MIGRATIONS:
            getattr(importlib.import_module(module_name), function)(apps, schema_editor)
