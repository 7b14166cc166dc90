"""The measurement registry and the timing of one row."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext


class Unavailable(Exception):
    """A measurement that cannot run here (e.g. code not merged yet); its row says why."""


@dataclass
class Comparison:
    """What a measurement returns: our code and its floor, as callables to time.

    `same`, when given, compares their results and returns a message if they
    differ, so a floor that answers a different question is noticed.
    """

    ours: Callable[[], Any]
    floor: Callable[[], Any] | None = None
    same: Callable[[Any, Any], str | None] | None = None
    note: str = ""


@dataclass
class Context:
    """What a measurement may use: the seeded size and small helpers."""

    proposals: int

    def user(self, email: str) -> Any:
        from django.contrib.auth import get_user_model

        try:
            return get_user_model().objects.select_related("department").get(email=email)
        except get_user_model().DoesNotExist:
            raise Unavailable(f"no user {email}: has seed_demo run?") from None

    @staticmethod
    def sql(query: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> list[tuple[Any, ...]]:
        with connection.cursor() as cursor:
            cursor.execute(query, params)
            return cursor.fetchall()


@dataclass
class Row:
    name: str
    ours: float | None = None  # seconds, median
    floor: float | None = None
    ours_queries: int | None = None
    floor_queries: int | None = None
    note: str = ""
    runs: list[float] = field(default_factory=list)

    @property
    def ratio(self) -> float | None:
        if self.ours is None or not self.floor:
            return None
        return self.ours / self.floor


Measurement = Callable[[Context], Comparison]
REGISTRY: list[tuple[str, Measurement]] = []


def measurement(name: str) -> Callable[[Measurement], Measurement]:
    """Register a row of the benchmark table, in the order of definition."""

    def register(function: Measurement) -> Measurement:
        REGISTRY.append((name, function))
        return function

    return register


def _median_time(function: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    result = function()  # warm-up: connections, caches, query plans
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def _count_queries(function: Callable[[], Any]) -> int:
    with CaptureQueriesContext(connection) as captured:
        function()
    return len(captured.captured_queries)


def run(name: str, function: Measurement, context: Context, repeat: int) -> Row:
    row = Row(name)
    try:
        comparison = function(context)
        row.note = comparison.note
        row.ours, ours_result = _median_time(comparison.ours, repeat)
        row.ours_queries = _count_queries(comparison.ours)
        if comparison.floor is not None:
            row.floor, floor_result = _median_time(comparison.floor, repeat)
            row.floor_queries = _count_queries(comparison.floor)
            if comparison.same is not None:
                difference = comparison.same(ours_result, floor_result)
                if difference:
                    row.note = f"{row.note}; DIFFERENT ROWS: {difference}".lstrip("; ")
    except Unavailable as reason:
        row.note = f"unavailable: {reason}"
    except Exception as error:  # one broken row must not hide the others
        row.note = f"error: {type(error).__name__}: {error}"
    return row
