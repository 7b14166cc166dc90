"""Time and count the queries of the triage and portfolio dashboards.

Plain functions for `make bench`: each renders the real page (view, selectors
and template) for a demo account on the current database and returns the
median time of a few runs and the number of queries one run makes. Run
`seed_demo --proposals N` first; the numbers are meaningful on PostgreSQL.

    python -m bench.dashboards            # prints a table (needs DJANGO_SETTINGS_MODULE)
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

DEMO_LEAD = "lead@dfe.example"
DEMO_ANALYST = "analyst@gds.example"


def _render(view: Callable[..., Any], path: str, email: str) -> tuple[int, int, int]:
    """One request through the view: (status, queries, bytes)."""
    from django.contrib.messages.storage.fallback import FallbackStorage
    from django.contrib.sessions.backends.base import SessionBase
    from django.db import connection
    from django.test import RequestFactory
    from django.test.utils import CaptureQueriesContext

    from accounts.models import User

    user = User.objects.select_related("department").get(email=email)
    request = RequestFactory().get(path)
    request.user = user
    request.session = SessionBase()
    request._messages = FallbackStorage(request)  # type: ignore[attr-defined]
    with CaptureQueriesContext(connection) as queries:
        response = view(request)
    return response.status_code, len(queries.captured_queries), len(response.content)


def measure(view: Callable[..., Any], path: str, email: str, *, runs: int = 5) -> dict[str, Any]:
    """Median wall time over `runs` (after one warm-up) and the query count of one run."""
    status, queries, size = _render(view, path, email)
    if status != 200:
        raise RuntimeError(f"{path} as {email} answered {status}")
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        _render(view, path, email)
        times.append(time.perf_counter() - started)
    return {
        "page": path,
        "user": email,
        "median_ms": round(statistics.median(times) * 1000, 1),
        "max_ms": round(max(times) * 1000, 1),
        "queries": queries,
        "bytes": size,
    }


def proposal_count() -> int:
    from proposals.models import Proposal

    return Proposal.objects.count()


def bench_triage_dashboard(email: str = DEMO_LEAD, *, runs: int = 5) -> dict[str, Any]:
    """The reviewers' triage dashboard /review/ of the account's department."""
    from proposals.views.review import dashboard

    return measure(dashboard, "/review/", email, runs=runs)


def bench_portfolio(email: str = DEMO_LEAD, *, runs: int = 5) -> dict[str, Any]:
    """The portfolio dashboard /portfolio/: a lead's department, an analyst's government."""
    from proposals.views.portfolio import portfolio

    return measure(portfolio, "/portfolio/", email, runs=runs)


def bench_portfolio_chart(email: str = DEMO_ANALYST, *, runs: int = 5) -> dict[str, Any]:
    """One chart image (it recomputes the portfolio, as the page's <img> does)."""
    from proposals.views.portfolio import chart

    return measure(
        lambda request: chart(request, "funnel"), "/portfolio/charts/funnel.svg", email, runs=runs
    )


def run(runs: int = 5) -> list[dict[str, Any]]:
    """Every dashboard measurement: triage and portfolio as DfE's lead and as an analyst."""
    from django.conf import settings
    from django.test import override_settings

    n = proposal_count()
    # Static URLs are not what is measured: don't need a collectstatic manifest.
    storages = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    # Measure the computation, not the portfolio cache that serves repeat views.
    with override_settings(STORAGES=storages, PORTFOLIO_CACHE_SECONDS=0):
        results = [
            bench_triage_dashboard(DEMO_LEAD, runs=runs),
            bench_portfolio(DEMO_LEAD, runs=runs),
            bench_portfolio(DEMO_ANALYST, runs=runs),
            bench_portfolio_chart(DEMO_ANALYST, runs=runs),
        ]
    for row in results:
        row["proposals"] = n
    return results


def main() -> None:
    import django

    django.setup()
    for row in run():
        print(
            f"{row['proposals']:>9,} proposals  {row['page']:<32} {row['user']:<22} "
            f"median {row['median_ms']:>8.1f} ms  max {row['max_ms']:>8.1f} ms  "
            f"{row['queries']:>3} queries"
        )


if __name__ == "__main__":
    main()
