"""How `seed_demo` writes: rows buffered per model, then COPY (PostgreSQL) or executemany."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from django.db import connection, models
from psycopg.types.json import Jsonb

from proposals.models import (
    Adoption,
    Assessment,
    Assignment,
    AuditEvent,
    BenefitReview,
    Comment,
    Decision,
    EvaluationPlan,
    Experiment,
    Metric,
    MetricActual,
    Outcome,
    Proposal,
    Score,
    Support,
)


class BulkWriter:
    """Buffers rows per model and writes them with COPY (PostgreSQL) or executemany."""

    AUTO_ID_MODELS: Sequence[type[models.Model]] = (
        Assessment,
        Experiment,
        Metric,
        Outcome,
        EvaluationPlan,
        BenefitReview,
        Adoption,
    )

    def __init__(self) -> None:
        self.rows: dict[type[models.Model], list[dict[str, Any]]] = defaultdict(list)
        self.ids: dict[type[models.Model], int] = {}

    def next_id(self, model: type[models.Model]) -> int:
        if model not in self.ids:
            self.ids[model] = model._default_manager.aggregate(m=models.Max("id"))["m"] or 0
        self.ids[model] += 1
        return self.ids[model]

    def add(self, model: type[models.Model], **values: Any) -> dict[str, Any]:
        """Buffer a row; the row is returned so that a later step may still change it."""
        self.rows[model].append(values)
        return values

    def flush(self) -> None:
        # Parents before children, so foreign keys hold at every step.
        order: list[type[models.Model]] = [
            Proposal,
            Proposal.themes.through,
            AuditEvent,
            Decision,
            Assignment,
            Assessment,
            Score,
            Experiment,
            EvaluationPlan,
            Metric,
            Outcome,
            BenefitReview,
            MetricActual,
            Adoption,
            Comment,
            Support,
        ]
        for model in order:
            rows = self.rows.pop(model, [])
            if rows:
                self._write(model, rows)

    def _write(self, model: type[models.Model], rows: Iterable[dict[str, Any]]) -> None:
        rows = list(rows)
        fields = [f for f in model._meta.concrete_fields if f.attname in rows[0]]
        columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
        table = connection.ops.quote_name(model._meta.db_table)
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                json_fields = {f.attname for f in fields if isinstance(f, models.JSONField)}
                # The raw psycopg cursor's errors, as Django's (IntegrityError…).
                with (
                    connection.wrap_database_errors,
                    cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
                ):
                    for row in rows:
                        copy.write_row(
                            [
                                Jsonb(row[f.attname])
                                if f.attname in json_fields
                                else row[f.attname]
                                for f in fields
                            ]
                        )
            else:
                placeholders = ", ".join(["%s"] * len(fields))
                cursor.executemany(
                    f"INSERT INTO {table} ({columns}) VALUES ({placeholders})",  # noqa: S608
                    [[adapt(f, row[f.attname]) for f in fields] for row in rows],
                )


def adapt(field: models.Field, value: Any) -> Any:
    """What Django would store on SQLite for this value."""
    if value is None:
        return None
    if isinstance(field, models.JSONField):
        return json.dumps(value)
    if isinstance(value, uuid.UUID):
        return value.hex
    if isinstance(value, dt.datetime):
        return connection.ops.adapt_datetimefield_value(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value
