"""The search rows of `make bench` (issue 10, goal 2): ranked full-text search
through the real stack — Find proposals (`/proposals/?q=`, a signed-in session)
and the API (`?search=`, a read token) — over everyday queries, p50 and p95
per query; the worst cases (a word in a large share of all proposals, a word
in none); and the same queries as `icontains` over the same fields, the floor
that search must beat by 100×.

Importing this module registers the rows (`bench.core.measurement`).
"""

from __future__ import annotations

import re
import statistics
import time
from collections.abc import Callable
from typing import Any

from bench.core import Comparison, Context, Unavailable, measurement

# What people type into a search box of government innovation proposals: the
# name of a service, a problem, a kind of technology, a group of people.
EVERYDAY = (
    "visa applications",
    "school",
    "data sharing",
    "chatbot",
    "flood warnings",
    "passport",
    "prison visits",
    "tax returns",
    "energy",
    "satellite",
    "teacher training",
    "court hearings",
    "fraud",
    "universal credit",
    "digital",
    "lesson plans",
    "vehicle maintenance",
    "free school meals",
    "Salesforce",
    "attendance",
)
# The worst cases: a word in a large share of every proposal, and one in none.
COMMON = "data"
NOTHING = "blockchain"
SEARCHER = "submitter@dfe.example"  # visibility with its EXISTS subqueries, not an analyst's
# icontains reads every row: a few of the queries are enough to know its cost.
FLOOR_QUERIES = ("visa applications", "school", "chatbot", "fraud")
FIELDS: tuple[str, ...] = ("reference", "title", "summary", "problem", "who_has_the_problem")
FIELDS += ("proposed_solution", "expected_benefits")
REFERENCE = re.compile(r"\b[A-Z]+-\d{4}-\d{4,}\b")
RUNS = 3  # per query, the median of them


def _host() -> str:
    from django.conf import settings

    hosts = [h for h in settings.ALLOWED_HOSTS if h not in {"*", ""} and not h.startswith(".")]
    return hosts[0] if hosts else "localhost"


def _page(context: Context) -> Callable[[str], list[str]]:
    """GET /proposals/?q=… as the searcher, signed in: the references listed."""
    from django.test import Client

    user = context.user(SEARCHER)
    client = Client(SERVER_NAME=_host())
    client.force_login(user)

    def get(text: str) -> list[str]:
        response = client.get("/proposals/", {"q": text}, secure=True)
        if response.status_code != 200:
            raise RuntimeError(f"/proposals/?q={text} answered {response.status_code}")
        # Each listed proposal's reference, in the page's order (each appears twice).
        return list(dict.fromkeys(REFERENCE.findall(response.content.decode())))

    return get


def _api(context: Context) -> Callable[[str], list[str]]:
    """GET /api/v1/proposals/?search=… with a read token: the references listed."""
    from rest_framework.test import APIClient

    from accounts.models import ApiToken, TokenScope
    from proposals.services import api_token_create

    user = context.user(SEARCHER)
    ApiToken.objects.filter(user=user, name="bench search").delete()
    _, key = api_token_create(user=user, name="bench search", scope=TokenScope.READ)
    client = APIClient(SERVER_NAME=_host())
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")

    def get(text: str) -> list[str]:
        response = client.get("/api/v1/proposals/", {"search": text}, secure=True)
        if response.status_code != 200:
            raise RuntimeError(f"API ?search={text} answered {response.status_code}")
        return [row["reference"] for row in response.json()["results"]]

    return get


def _selector(context: Context) -> Callable[[str], list[str]]:
    """Our search's first page of 20, the query alone (the page's own selector)."""
    from proposals.selectors import proposals_visible_to, search_proposals

    user = context.user(SEARCHER)

    def get(text: str) -> list[str]:
        found = search_proposals(proposals_visible_to(user), text)
        return list(found.values_list("reference", flat=True)[:20])

    return get


def _icontains(context: Context) -> Callable[[str], list[str]]:
    """The floor to beat: a search written with `icontains` — every word somewhere
    in the same fields, visibility as the searcher's, ranked as far as substrings
    can be (a title holding the first word first, then the newest), first 20."""
    from django.db.models import BooleanField, Case, Q, Value, When

    from proposals.selectors import proposals_visible_to

    user = context.user(SEARCHER)

    def get(text: str) -> list[str]:
        queryset = proposals_visible_to(user)
        for word in text.split():
            any_field = Q()
            for name in FIELDS:
                any_field |= Q(**{f"{name}__icontains": word})
            queryset = queryset.filter(any_field)
        titled = Case(
            When(title__icontains=text.split()[0], then=Value(True)),
            default=Value(False),
            output_field=BooleanField(),
        )
        ranked = queryset.annotate(titled=titled).order_by("-titled", "-updated_at", "-pk")
        return list(ranked.values_list("reference", flat=True)[:20])

    return get


def _per_query(
    get: Callable[[str], Any], queries: tuple[str, ...], runs: int = RUNS
) -> dict[str, float]:
    """The median seconds of each query (after one warm-up run of it)."""
    timings = {}
    for text in queries:
        get(text)
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            get(text)
            times.append(time.perf_counter() - started)
        timings[text] = statistics.median(times)
    return timings


def _percentiles(timings: dict[str, float]) -> str:
    ordered = sorted(timings.values())
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    slowest = max(timings, key=lambda text: timings[text])
    return (
        f"p50 {statistics.median(ordered) * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms (goal 50) "
        f"over {len(ordered)} queries; slowest {slowest!r} {timings[slowest] * 1000:.1f} ms"
    )


def _index_note() -> str:
    from proposals.selectors import search_uses_rum

    return "RUM index, rank order" if search_uses_rum() else "GIN index, bounded window"


def _everyday(
    context: Context, door: Callable[[Context], Callable[[str], list[str]]]
) -> Comparison:
    from django.conf import settings

    if not settings.IS_POSTGRES:
        raise Unavailable("needs PostgreSQL")
    get = door(context)
    timings = _per_query(get, EVERYDAY)
    # The same door without words: what any request costs here, search or not.
    bare = _per_query(get, ("",))[""]
    return Comparison(
        ours=lambda: [get(text) for text in EVERYDAY],
        note=(
            f"{_percentiles(timings)}; the same without words {bare * 1000:.1f} ms; "
            f"{_index_note()}; ours = all {len(EVERYDAY)} in turn"
        ),
    )


@measurement("search /proposals/?q= (page, signed in), 20 everyday queries, p50/p95")
def search_page_everyday(context: Context) -> Comparison:
    return _everyday(context, _page)


@measurement("search API ?search= (read token), 20 everyday queries, p50/p95")
def search_api_everyday(context: Context) -> Comparison:
    return _everyday(context, _api)


def _worst(context: Context, text: str) -> Comparison:
    from proposals.models import Proposal

    page, api = _page(context), _api(context)
    matching = Proposal.objects.filter(search_vector=_query(text)).count()
    api_time = _per_query(api, (text,))[text]
    return Comparison(
        ours=lambda: page(text),
        note=(
            f"{text!r} is in {matching:,} of {context.proposals:,} proposals; "
            f"API {api_time * 1000:.1f} ms; ours = the page; {_index_note()}"
        ),
    )


def _query(text: str) -> Any:
    from django.contrib.postgres.search import SearchQuery

    return SearchQuery(text, search_type="websearch", config="english")


@measurement(f"search worst case: a very common word ({COMMON!r}), page and API")
def search_common_word(context: Context) -> Comparison:
    return _worst(context, COMMON)


@measurement(f"search worst case: a word in no proposal ({NOTHING!r}), page and API")
def search_no_match(context: Context) -> Comparison:
    return _worst(context, NOTHING)


@measurement(f"search vs icontains over the same fields ({len(FLOOR_QUERIES)} queries, first 20)")
def search_vs_icontains(context: Context) -> Comparison:
    ours, floor = _selector(context), _icontains(context)
    mine = _per_query(ours, FLOOR_QUERIES)
    theirs = _per_query(floor, FLOOR_QUERIES, runs=1)
    each = ", ".join(f"{text!r} {theirs[text] / mine[text]:.0f}×" for text in FLOOR_QUERIES)
    return Comparison(
        ours=lambda: [ours(text) for text in FLOOR_QUERIES],
        floor=lambda: [floor(text) for text in FLOOR_QUERIES],
        note=(
            f"the query alone, both sides; floor = icontains on {len(FIELDS)} fields, title "
            f"first then newest (the slower side: goal ratio ≤ 0.01×); faster by {each}; "
            "not the same rows (substrings, not stemmed words)"
        ),
    )
