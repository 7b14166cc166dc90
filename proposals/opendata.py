"""Published lessons as an open dataset: a CSV file, rebuilt by beat, for anyone.

The dataset holds exactly what the lessons library shows an analyst: the
published outcomes of proposals shared across government. It asks the selector
(`selectors.published_outcomes_visible_to`) with an analyst who is nobody in
particular, so the rule stays in one place. The file is built like a report
(chunks, the report's cells, a temporary file) and saved to default storage
under a new name, then a small manifest (`open-data/lessons.json`: the file's
name, when it was built, the dataset's issued and modified dates, its rows)
points at it and the old file is deleted: a reader never sees half a file.

Its catalogue (DCAT) and table schema are served by `api/open_data.py`; the
columns' meanings are the data dictionary's (`glossary.COLUMNS` and the API words).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import tempfile
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db.models import Max, Min, QuerySet
from django.utils import timezone

from accounts.models import Role, User
from proposals.models import Outcome
from proposals.reports import CHUNK_SIZE, csv_cell
from proposals.selectors import published_outcomes_visible_to

MANIFEST = "open-data/lessons.json"
FOLDER = "open-data"

# (column, source): the source is the outcome's field path, or `url` (computed).
LESSON_COLUMNS: list[tuple[str, str]] = [
    ("reference", "experiment__proposal__reference"),
    ("proposal_title", "experiment__proposal__title"),
    ("department", "experiment__proposal__department__name"),
    ("experiment_title", "experiment__title"),
    ("we_believe", "experiment__we_believe"),
    ("will_result_in", "experiment__will_result_in"),
    ("we_will_know_when", "experiment__we_will_know_when"),
    ("starts_on", "experiment__starts_on"),
    ("ends_on", "experiment__ends_on"),
    ("result", "result"),
    ("recommendation", "recommendation"),
    ("realised_benefit_gbp", "realised_benefit_gbp"),
    ("lessons", "lessons"),
    ("published_at", "published_at"),
    ("url", "experiment__proposal__url"),
]
COMPUTED = frozenset({"experiment__proposal__url"})


def open_reader() -> User:
    """An analyst who is nobody in particular (never saved): what the open dataset may hold
    is what the visibility rules give any analyst."""
    return User(role=Role.ANALYST, is_active=True)


def lessons_queryset() -> QuerySet[Outcome]:
    return published_outcomes_visible_to(open_reader())


def lesson_rows(queryset: QuerySet[Outcome], chunk_size: int = CHUNK_SIZE) -> Iterator[list[Any]]:
    """Rows in outcome order, a chunk at a time (keyset on the outcome's id)."""
    sources = [source for _, source in LESSON_COLUMNS if source not in COMPUTED]
    base = queryset.order_by("pk").values("pk", *sources)
    last = 0
    while True:
        chunk = list(base.filter(pk__gt=last)[:chunk_size])
        if not chunk:
            return
        for row in chunk:
            row["experiment__proposal__url"] = (
                f"{settings.SITE_URL}/proposals/{row['experiment__proposal__reference']}/"
            )
            yield [row[source] for _, source in LESSON_COLUMNS]
        last = chunk[-1]["pk"]


def build(*, now: dt.datetime | None = None) -> dict[str, Any]:
    """Write the CSV and its manifest to default storage; returns the manifest."""
    now = now or timezone.now()
    queryset = lessons_queryset()
    dates = queryset.aggregate(issued=Min("published_at"), modified=Max("updated_at"))
    rows = 0
    with tempfile.TemporaryFile() as handle:
        text = io.TextIOWrapper(handle, encoding="utf-8", newline="", write_through=False)
        writer = csv.writer(text)
        writer.writerow([column for column, _ in LESSON_COLUMNS])
        for row in lesson_rows(queryset, chunk_size=settings.REPORT_CHUNK_SIZE):
            writer.writerow([csv_cell(value) for value in row])
            rows += 1
        text.flush()
        text.detach()
        handle.seek(0)
        name = default_storage.save(
            f"{FOLDER}/lessons-{now.strftime('%Y%m%dT%H%M%S%f')}.csv", File(handle)
        )
    previous = current()
    manifest = {
        "file": name,
        "built_at": now.isoformat(),
        # Issued: the first lesson's publication; modified: the latest change to any lesson.
        "issued": (dates["issued"] or now).isoformat(),
        "modified": (dates["modified"] or now).isoformat(),
        "rows": rows,
    }
    if default_storage.exists(MANIFEST):
        default_storage.delete(MANIFEST)
    default_storage.save(MANIFEST, ContentFile(json.dumps(manifest).encode()))
    if previous and previous["file"] != name and default_storage.exists(previous["file"]):
        default_storage.delete(previous["file"])
    return manifest


def current() -> dict[str, Any] | None:
    """The manifest of the dataset as last built, or None before the first build."""
    if not default_storage.exists(MANIFEST):
        return None
    with default_storage.open(MANIFEST) as handle:
        manifest: dict[str, Any] = json.loads(handle.read())
    return manifest if default_storage.exists(manifest["file"]) else None


def latest() -> dict[str, Any]:
    """The dataset's manifest, built now if it never was (before beat's first run)."""
    return current() or build()
