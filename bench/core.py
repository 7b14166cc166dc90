"""The measurement registry, the timing of one row, and its goals."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

# Units of a row's `ours` and `floor`: seconds (less is better), requests a second
# (more is better) or a plain count (e.g. session writes).
SECONDS = "s"
RATE = "req/s"
COUNT = "count"


class Unavailable(Exception):
    """A measurement that cannot run here (e.g. code not merged yet); its row says why."""


@dataclass(frozen=True)
class Goal:
    """What a row must meet. `max_growth` compares the largest size with the smallest
    (time at 1M / time at 10k; for a rate, the inverse, so it is always the growth of
    the cost of one request). `max_ratio` / `min_ratio` bound ours / floor at every size."""

    max_growth: float | None = 1.5
    max_ratio: float | None = None
    min_ratio: float | None = None

    def describe(self) -> str:
        parts = []
        if self.max_growth is not None:
            parts.append(f"growth≤{self.max_growth:g}x")
        if self.max_ratio is not None:
            parts.append(f"ratio≤{self.max_ratio:g}x")
        if self.min_ratio is not None:
            parts.append(f"ratio≥{self.min_ratio:g}x")
        return ", ".join(parts)


@dataclass
class Comparison:
    """What a measurement returns: our code and its floor, as callables to time.

    `same`, when given, compares their results and returns a message if they
    differ, so a floor that answers a different question is noticed (the row
    fails). `check`, when given, replaces `ours`'s result for that comparison:
    one untimed call that returns the answer in the shape the floor gives it
    (e.g. the page rendered once with its template context captured).
    """

    ours: Callable[[], Any]
    floor: Callable[[], Any] | None = None
    same: Callable[[Any, Any], str | None] | None = None
    note: str = ""
    check: Callable[[], Any] | None = None


@dataclass
class Context:
    """What a measurement may use: the seeded size and small helpers.

    `borrowed` is true for a database the bench did not create (`--database`):
    rows must not write to it (signing in, which writes a session row, is allowed).
    """

    proposals: int
    borrowed: bool = False

    def user(self, email: str) -> Any:
        from django.contrib.auth import get_user_model

        try:
            return get_user_model().objects.select_related("department").get(email=email)
        except get_user_model().DoesNotExist:
            raise Unavailable(f"no user {email}: has seed_demo run?") from None

    def client(self, email: str) -> Any:
        """A test Client signed in as `email`: its session is saved in the database and
        every request goes through the whole middleware stack."""
        from django.test import Client

        client = Client()
        client.cookies[settings.SESSION_COOKIE_NAME] = signed_in_session(self.user(email))
        return client

    @staticmethod
    def sql(query: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> list[tuple[Any, ...]]:
        with connection.cursor() as cursor:
            cursor.execute(query, params)
            return cursor.fetchall()


def signed_in_session(user: Any) -> str:
    """The key of a new session for `user`, saved in the database: what signing in
    stores (the user, the backend, the password hash, when it began), without
    login()'s update of `last_login` — a write to the users table that could
    wait on another process's lock, on a database the bench only borrows."""
    from importlib import import_module

    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, load_backend

    from accounts.middleware import SIGNED_IN_KEY

    session = import_module(settings.SESSION_ENGINE).SessionStore()
    session[SESSION_KEY] = user._meta.pk.value_to_string(user)
    # As force_login: the first backend that can load a user back from the session.
    session[BACKEND_SESSION_KEY] = next(
        path for path in settings.AUTHENTICATION_BACKENDS if hasattr(load_backend(path), "get_user")
    )
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session[SIGNED_IN_KEY] = int(time.time())
    session.save()
    return str(session.session_key)


@dataclass
class Row:
    """One measurement at one size."""

    name: str
    ours: float | None = None  # seconds (median), or requests a second, or a count
    floor: float | None = None
    ours_queries: int | None = None
    floor_queries: int | None = None
    note: str = ""
    runs: list[float] = field(default_factory=list)
    unit: str = SECONDS
    size: int | None = None
    # Why the row failed outright: the floor answered differently, or it raised.
    differs: str = ""
    error: str = ""

    @property
    def ratio(self) -> float | None:
        if self.ours is None or not self.floor:
            return None
        return self.ours / self.floor


Measurement = Callable[[Context], "Comparison | Row"]


class Entry(NamedTuple):
    name: str
    function: Measurement
    goal: Goal


REGISTRY: list[Entry] = []


def measurement(
    name: str,
    *,
    max_growth: float | None = 1.5,
    max_ratio: float | None = None,
    min_ratio: float | None = None,
) -> Callable[[Measurement], Measurement]:
    """Register a row of the benchmark table, in the order of definition, with its goal."""
    goal = Goal(max_growth=max_growth, max_ratio=max_ratio, min_ratio=min_ratio)

    def register(function: Measurement) -> Measurement:
        if not any(entry.name == name for entry in REGISTRY):
            REGISTRY.append(Entry(name, function, goal))
        return function

    return register


def entry(name: str) -> Entry:
    for candidate in REGISTRY:
        if candidate.name == name:
            return candidate
    raise KeyError(name)


def _median_time(function: Callable[[], Any], repeat: int) -> tuple[float, Any, list[float]]:
    result = function()  # warm-up: connections, caches, query plans
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result, times


def _count_queries(function: Callable[[], Any]) -> int:
    with CaptureQueriesContext(connection) as captured:
        function()
    return len(captured.captured_queries)


def compare(comparison: Comparison, ours_result: Any, floor_result: Any) -> str:
    """'' when the floor gave the same answer as ours, else what differs."""
    if comparison.same is None:
        return ""
    try:
        return comparison.same(ours_result, floor_result) or ""
    except Exception as error:  # a comparison that cannot be made is a difference
        return f"cannot compare: {type(error).__name__}: {error}"


def _ours_queries_and_answer(comparison: Comparison, ours_result: Any) -> tuple[int, Any]:
    """Our query count in a steady state (after the timed runs), and the answer to
    compare: the check call's when there is one (it is the same request, counted
    once instead of twice), else the last timed result."""
    if comparison.check is None:
        return _count_queries(comparison.ours), ours_result
    with CaptureQueriesContext(connection) as captured:
        answer = comparison.check()
    return len(captured.captured_queries), answer


def run(name: str, function: Measurement, context: Context, repeat: int) -> Row:
    row = Row(name, size=context.proposals)
    try:
        comparison = function(context)
        if isinstance(comparison, Row):  # measured already (a count, a rate)
            comparison.name, comparison.size = name, context.proposals
            return comparison
        row.note = comparison.note
        row.ours, ours_result, row.runs = _median_time(comparison.ours, repeat)
        row.ours_queries, answer = _ours_queries_and_answer(comparison, ours_result)
        if comparison.floor is not None:
            row.floor, floor_result, _ = _median_time(comparison.floor, repeat)
            row.floor_queries = _count_queries(comparison.floor)
            row.differs = compare(comparison, answer, floor_result)
    except Unavailable as reason:
        row.note = f"unavailable: {reason}"
    except Exception as error:  # one broken row must not hide the others
        row.error = f"{type(error).__name__}: {error}"
    return row
