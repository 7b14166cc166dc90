"""Compute the similarity vectors that are missing or out of date, now.

Beat's catch-up does this a little at a time; after a bulk load (seed_demo, an
import) this does it all at once: `make manage ARGS=index_similarity`.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand
from django.db import connection

from proposals import services


class Command(BaseCommand):
    help = "Compute every missing or out-of-date similarity vector (proposals and lessons)."

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        written = services.similarity_catch_up(batch=2000)
        if written and connection.vendor == "postgresql":
            # Fresh statistics now rather than at autovacuum's next look (or never,
            # where it is off): planned on an empty table's, each web process's
            # per-call sync query scanned every vector, 300 ms at 1,000,000.
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE proposals_similarityvector")
        self.stdout.write(
            f"Wrote {written:,} similarity vectors in {time.monotonic() - started:.1f} s"
        )
