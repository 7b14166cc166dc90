"""Search (`selectors.search_proposals`): one ranked full-text search over the
reference, title and every answer, the same for Find proposals and the API —
FTS5 on SQLite, the trigger-kept tsvector on PostgreSQL (run with DATABASE_URL
for the second)."""

from __future__ import annotations

import datetime as dt
import importlib
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import TokenScope, User
from proposals import selectors, services
from proposals.models import Proposal
from proposals.services import api_token_create
from proposals.views import _paging, find
from tests.conftest import skip_or_fail
from tests.factories import ProposalFactory

pytestmark = pytest.mark.django_db

ANSWERS = ("title", "summary", "problem", "who_has_the_problem", "proposed_solution")


@pytest.fixture(autouse=True)
def _no_settling_lag(settings) -> None:
    settings.API_SETTLING_LAG_SECONDS = 0


# Every test runs on both of PostgreSQL's paths: the RUM index (0017, where the
# extension is installed, as in CI) and the GIN fallback. SQLite has one (FTS5).
PATHS = ["rum", "gin"] if connection.vendor == "postgresql" else ["fts5"]


@pytest.fixture(autouse=True, params=PATHS)
def search_path(request, settings) -> str:
    settings.SEARCH_RUM = request.param == "rum"
    if request.param == "rum":
        _make_the_rum_index()
    return str(request.param)


def _make_the_rum_index() -> None:
    """What 0017 does with SEARCH_RUM=true, inside the test's transaction."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'rum'")
        if cursor.fetchone() is None:
            # Under CI a failure: .ci/run installs postgresql-15-rum (ensure_rum).
            skip_or_fail("the rum extension is not installed here")
        cursor.execute("CREATE EXTENSION IF NOT EXISTS rum")
        cursor.execute(
            importlib.import_module("proposals.migrations.0018_search_rank").RUM_INDEX_SQL
        )
    assert selectors.search_uses_rum()


def proposal(author: User, *, age_days: int = 0, **answers: Any) -> Proposal:
    """A submitted proposal, last updated `age_days` ago (so "most recently
    updated" would put it where the test says it must not be)."""
    stamp = timezone.now() - dt.timedelta(days=age_days, seconds=10)
    return ProposalFactory.create(submitter=author, updated_at=stamp, **answers)


def found(user: User, text: str) -> list[str]:
    return [p.reference for p in selectors.search_proposals(visible(user), text)]


def visible(user: User) -> Any:
    return selectors.proposals_visible_to(user)


def page_order(user: User, text: str) -> list[str]:
    client = Client()
    client.force_login(user)
    response = client.get("/proposals/", {"q": text})
    assert response.status_code == 200
    return [p.reference for p in response.context["proposals"]]


def api_client(user: User) -> APIClient:
    _, key = api_token_create(user=user, name="search", scope=TokenScope.READ)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def api_order(user: User, text: str, **params: str) -> list[str]:
    response = api_client(user).get("/api/v1/proposals/", {"search": text, **params})
    assert response.status_code == 200, response.json()
    return [row["reference"] for row in response.json()["results"]]


@pytest.mark.parametrize("field", [*ANSWERS, "expected_benefits"])
def test_a_word_in_any_answer_is_found(alice, bob, field) -> None:
    answers: dict[str, Any] = {field: "Marmalade sandwiches for the archive"}
    match = proposal(alice, **answers)
    proposal(alice, title="Fleet", summary="Vans")

    assert found(bob, "marmalade") == [match.reference]
    assert page_order(bob, "MARMALADE") == [match.reference]
    assert api_order(bob, "marmalade") == [match.reference]


def test_words_are_stemmed(alice, bob) -> None:
    match = proposal(alice, problem="Each application is keyed in twice")

    assert found(bob, "applications") == [match.reference]
    assert found(bob, "keying applications") == [match.reference]


def test_every_word_must_match(alice, bob) -> None:
    both = proposal(alice, title="Drones survey roofs")
    proposal(alice, title="Drones deliver post")

    assert found(bob, "drones roofs") == [both.reference]


def test_a_title_match_ranks_above_a_body_match(alice, bob) -> None:
    in_body = proposal(
        alice, title="Fleet", problem="Drones, drones and more drones", expected_benefits="Drones"
    )
    in_title = proposal(alice, title="Drones survey school roofs", age_days=30)

    assert found(bob, "drone") == [in_title.reference, in_body.reference]


def test_the_exact_title_phrase_ranks_first(alice, bob) -> None:
    words_apart = proposal(
        alice,
        title="Forms kiosk for digital services",
        summary="A digital forms kiosk: digital forms at a kiosk",
    )
    phrase = proposal(alice, title="Digital forms kiosk", summary="Screens", age_days=30)

    assert found(bob, "digital forms kiosk") == [phrase.reference, words_apart.reference]


def test_a_reference_typed_in_finds_that_proposal_alone(alice, bob) -> None:
    wanted = proposal(alice, title="Fleet")
    mentions = proposal(alice, title="Like the fleet one", problem=f"See {wanted.reference}")

    assert found(bob, wanted.reference.lower()) == [wanted.reference]
    assert api_order(bob, f" {wanted.reference.lower()} ") == [wanted.reference]
    assert mentions.reference in found(bob, "fleet")


def test_a_reference_the_user_may_not_see_finds_nothing(alice, bob) -> None:
    hidden = proposal(alice, visibility="department")

    assert found(bob, hidden.reference) == []
    assert api_order(bob, hidden.reference) == []


def test_search_keeps_to_what_the_user_may_see(alice, bob) -> None:
    shown = proposal(alice, title="Kiosk for visitors")
    proposal(alice, title="Kiosk in the office", visibility="department")

    assert found(bob, "kiosk") == [shown.reference]
    assert len(found(alice, "kiosk")) == 2


def test_web_search_words_quotes_or_and_minus(alice, bob) -> None:
    vans = proposal(alice, title="Electric vans for the fleet")
    bikes = proposal(alice, title="Electric bikes for couriers")
    proposal(alice, title="Diesel lorries")

    assert sorted(found(bob, "vans or bikes")) == sorted([vans.reference, bikes.reference])
    assert found(bob, "electric -bikes") == [vans.reference]
    assert found(bob, '"electric vans"') == [vans.reference]
    assert found(bob, '"vans electric"') == []


HOSTILE = [
    '"',
    '"unbalanced',
    'kiosk"',
    '""',
    "*",
    "kiosk*",
    "-",
    "- -",
    "-kiosk",
    "kiosk -",
    "NEAR",
    "NEAR(kiosk visitors)",
    "NEAR(kiosk visitors, 2)",
    "kiosk NEAR/2 visitors",
    "(",
    ")",
    "(kiosk",
    "kiosk) OR (",
    "OR",
    "or kiosk",
    "kiosk or",
    "AND",
    "NOT kiosk",
    "kiosk NOT",
    "title:kiosk",
    "{title}: kiosk",
    "title : kiosk",
    "^kiosk",
    "'",
    "\\",
    "%",
    "_",
    "+kiosk",
    "kiosk & visitors | !x",
    "a:b:c",
    "😀 kiosk",
    "κιόσκι",
    "'; DROP TABLE proposals_proposal; --",
    "x" * 200,
    " ".join(["kiosk"] * 33),  # past SEARCH_WORDS_MAX, within the 200 characters
]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_input_never_raises(alice, bob, text) -> None:
    match = proposal(alice, title="Kiosk for visitors")

    results = found(bob, text)

    assert set(results) <= {match.reference}
    assert page_order(bob, text) == results
    assert api_order(bob, text) == results


def test_page_and_api_give_the_same_order(alice, bob) -> None:
    made = [
        proposal(alice, title="Benefit claims kiosk", age_days=5),
        proposal(alice, title="Fleet", problem="Benefit claims are slow", age_days=1),
        proposal(alice, title="Claims", expected_benefits="benefit to claims staff", age_days=3),
        proposal(alice, title="Benefit claims", age_days=9),
        proposal(alice, title="Claims of benefit", summary="benefit claims", age_days=2),
    ]

    order = found(bob, "benefit claims")

    assert sorted(order) == sorted(p.reference for p in made)
    assert order[0] == made[3].reference  # the whole title, as typed
    assert page_order(bob, "benefit claims") == order
    assert api_order(bob, "benefit claims") == order


def test_the_api_pages_a_search_best_match_first(alice, bob) -> None:
    made = [proposal(alice, title=f"Kiosk {n}", age_days=n) for n in range(5)]
    order = found(bob, "kiosk")
    client = api_client(bob)

    first = client.get("/api/v1/proposals/", {"search": "kiosk", "page_size": "2"}).json()
    second = client.get(first["next"]).json()
    third = client.get(second["next"]).json()
    back = client.get(second["previous"]).json()

    pages = [[row["reference"] for row in page["results"]] for page in (first, second, third)]
    assert [ref for page in pages for ref in page] == order
    assert len(order) == len(made)
    assert third["next"] is None and first["previous"] is None
    assert [row["reference"] for row in back["results"]] == pages[0]
    bad = client.get("/api/v1/proposals/", {"search": "kiosk", "cursor": "nonsense"})
    assert bad.status_code == 400
    assert "cursor" in bad.json()["errors"] or "cursor" in str(bad.json())


def test_the_api_keeps_the_sync_order_with_updated_after(alice, bob) -> None:
    older = proposal(alice, title="Kiosk", age_days=2)
    newer = proposal(alice, title="Fleet", problem="kiosk", age_days=1)
    since = (timezone.now() - dt.timedelta(days=10)).isoformat()

    assert api_order(bob, "kiosk", updated_after=since) == [older.reference, newer.reference]


def test_the_index_follows_edits_and_deletes(alice, bob) -> None:
    draft = services.proposal_create_draft(
        author=alice, data={"title": "Heat pumps", "problem": "Boilers"}
    )
    services.proposal_update(
        proposal=draft, actor=alice, data={"problem": "Radiators are cold in schools"}
    )

    assert found(alice, "radiators") == [draft.reference]
    assert found(alice, "boilers") == []
    Proposal.objects.filter(pk=draft.pk).update(title="Solar panels")
    assert found(alice, "solar") == [draft.reference]
    assert found(alice, "heat") == []
    Proposal.objects.filter(pk=draft.pk).delete()
    assert found(alice, "solar") == []


def test_the_find_page_runs_a_fixed_number_of_queries_when_searching(client, alice, bob) -> None:
    ProposalFactory.create_batch(3, submitter=alice, title="Kiosk")
    client.force_login(bob)

    def count(url: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    small = (count("/proposals/?q=kiosk"), count("/proposals/"))
    ProposalFactory.create_batch(40, submitter=alice, title="Kiosk")
    large = (count("/proposals/?q=kiosk"), count("/proposals/"))

    assert small == large
    assert large[0] == large[1]


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the FTS5 index is SQLite's")
def test_the_sqlite_migration_indexes_rows_that_exist_before_it(alice, bob) -> None:
    migration = importlib.import_module("proposals.migrations.0016_search_fts5")
    migration.backwards(None, _Editor())
    existing = proposal(alice, title="Lighthouse")
    migration.forwards(None, _Editor())

    assert found(bob, "lighthouse") == [existing.reference]
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        triggers = {row[0] for row in cursor.fetchall()}
        cursor.execute("SELECT COUNT(*) FROM proposals_proposal_fts")
        indexed = cursor.fetchone()[0]
    assert {"proposal_fts_ins", "proposal_fts_upd", "proposal_fts_del"} <= triggers
    assert indexed == Proposal.objects.count()


class _Editor:
    """The part of a schema editor the migration uses, inside the test's transaction
    (SQLite's own schema editor refuses to run in one)."""

    connection = connection

    def execute(self, sql: str) -> None:
        with connection.cursor() as cursor:
            cursor.execute(sql)


# --- a page is cut from a window of candidates (PostgreSQL) -------------------------------------

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the window is PostgreSQL's"
)


@pytest.fixture
def small_window(monkeypatch) -> int:
    """A window of 3, so a handful of rows is "more than the window"."""
    monkeypatch.setattr(selectors, "SEARCH_WINDOW", 3)
    return 3


@postgres_only
def test_a_title_typed_in_whole_ranks_first_past_the_window(alice, bob, small_window) -> None:
    for n in range(8):
        proposal(alice, title=f"Kiosk for visitors {n}", summary="kiosk visitors kiosk")
    exact = proposal(alice, title="Kiosk for visitors", age_days=60)

    assert found(bob, "kiosk for visitors")[0] == exact.reference
    assert page_order(bob, "Kiosk for visitors")[0] == exact.reference
    assert api_order(bob, "kiosk for visitors")[0] == exact.reference


@postgres_only
def test_the_window_keeps_to_what_the_user_may_see(alice, bob, small_window) -> None:
    """Hidden rows never take a place in the window: a page is full of what bob may see."""
    for _ in range(6):
        proposal(alice, title="Kiosk", visibility="department")
    shown = [proposal(alice, title=f"Kiosk {n}", summary="kiosk") for n in range(4)]
    proposal(alice, title="Kiosk", visibility="department")

    results = found(bob, "kiosk")

    assert sorted(results) == sorted(p.reference for p in shown)
    assert sorted(page_order(bob, "kiosk")) == sorted(results)
    assert sorted(api_order(bob, "kiosk")) == sorted(results)
    assert len(found(alice, "kiosk")) == 11


@postgres_only
def test_filters_after_the_search_are_inside_the_window(alice, bob, small_window) -> None:
    for _ in range(5):
        proposal(alice, title="Kiosk", status="submitted")
    wanted = proposal(alice, title="Kiosk", status="in_review", age_days=90)

    assert api_order(bob, "kiosk", status="in_review") == [wanted.reference]
    client = Client()
    client.force_login(bob)
    response = client.get("/proposals/", {"q": "kiosk", "status": "in_review"})
    assert [p.reference for p in response.context["proposals"]] == [wanted.reference]


def _paged(user: User, text: str, size: int, pages: int | None = None) -> list[str]:
    client = api_client(user)
    seen: list[str] = []
    url: str | None = f"/api/v1/proposals/?search={text}&page_size={size}"
    while url and (pages is None or pages > 0):
        page = client.get(url).json()
        seen += [row["reference"] for row in page["results"]]
        url = page["next"]
        pages = None if pages is None else pages - 1
    return seen


@postgres_only
def test_pages_list_every_match_once_when_a_window_holds_them(alice, bob, small_window) -> None:
    # A window of 3, then of 15: these 15 rows are all in the second.
    made = {proposal(alice, title=f"Kiosk {n}", age_days=n).reference for n in range(15)}

    seen = _paged(bob, "kiosk", 3)

    assert sorted(seen) == sorted(made)


@postgres_only
def test_pages_within_one_window_never_repeat_a_match(alice, bob, small_window) -> None:
    made = {proposal(alice, title=f"Kiosk {n}", age_days=n).reference for n in range(30)}

    seen = _paged(bob, "kiosk", 3, pages=4)  # rows 1-12, all from the window of 15

    assert len(seen) == 12
    assert len(set(seen)) == 12
    assert set(seen) <= made


@postgres_only
def test_a_report_of_a_search_holds_every_match(alice, bob, small_window) -> None:
    """Only a slice is windowed: the whole queryset (reports, exports) is every match."""
    made = {proposal(alice, title=f"Kiosk {n}").reference for n in range(6)}

    everything = selectors.search_proposals(visible(bob), "kiosk")

    assert {p.reference for p in everything} == made
    assert everything.count() == len(made)


@postgres_only
def test_the_rum_path_takes_the_best_into_the_window(alice, bob, small_window, search_path) -> None:
    if search_path != "rum":
        pytest.skip("the GIN path takes the first matches found, in no particular order")
    for n in range(6):
        proposal(alice, title=f"Fleet {n}", expected_benefits="A kiosk somewhere")
    best = [
        proposal(alice, title=f"Kiosk kiosk {n}", summary="Kiosk", age_days=30) for n in range(2)
    ]

    assert sorted(found(bob, "kiosk")[:2]) == sorted(p.reference for p in best)


@postgres_only
def test_the_api_search_runs_a_fixed_number_of_queries(alice, bob, small_window) -> None:
    client = api_client(bob)

    def count() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/api/v1/proposals/", {"search": "kiosk"}).status_code == 200
        return len(captured)

    ProposalFactory.create_batch(2, submitter=alice, title="Kiosk")
    count()  # the token's first use is recorded once
    small = count()
    ProposalFactory.create_batch(30, submitter=alice, title="Kiosk")
    assert count() == small == 2


@postgres_only
def test_a_common_word_on_the_rum_path_takes_the_first_matches(
    alice, bob, small_window, search_path, monkeypatch
) -> None:
    """Past SEARCH_RANKED_MATCHES matches the RUM path takes the first found, as GIN does:
    still only what bob may see, the whole title typed in first."""
    monkeypatch.setattr(selectors, "SEARCH_RANKED_MATCHES", 2)
    proposal(alice, title="Kiosk", visibility="department")
    shown = [proposal(alice, title=f"Kiosk {n}") for n in range(5)]
    exact = proposal(alice, title="Kiosk", age_days=40)

    results = found(bob, "kiosk")

    assert results[0] == exact.reference
    assert set(results) == {p.reference for p in [*shown, exact]}
    assert api_order(bob, "kiosk")[0] == exact.reference


def test_the_find_page_counts_a_search_up_to_its_own_cap(alice, bob, monkeypatch) -> None:
    monkeypatch.setattr(find, "SEARCH_COUNT_CAP", 3)
    for n in range(5):
        proposal(alice, title=f"Kiosk {n}")
    client = Client()
    client.force_login(bob)

    searched = client.get("/proposals/", {"q": "kiosk"}).content.decode()
    listed = client.get("/proposals/").content.decode()

    assert "More than 3 proposals" in searched
    assert "More than" not in listed


@postgres_only
def test_a_search_page_walks_its_matches_once_for_its_count_and_its_rows(alice, bob) -> None:
    """The count ("more than …") and the page's rows come from the same candidates:
    found in one statement, then read by primary key, so a common word's first
    matches are walked once a page, not twice."""
    shown = [proposal(alice, title=f"Kiosk {n}") for n in range(6)]
    proposal(alice, title="Kiosk", visibility="department")  # bob may not see it
    client = Client()
    client.force_login(bob)
    client.get("/proposals/", {"q": "kiosk"})  # the session's first stamp

    with CaptureQueriesContext(connection) as captured:
        page = client.get("/proposals/", {"q": "kiosk"}).content.decode()

    walks = [q["sql"] for q in captured if "UNION ALL" in q["sql"]]
    assert len(walks) == 1
    assert not any("COUNT(" in q["sql"] and "@@" in q["sql"] for q in captured)
    assert f"{len(shown)} proposals" in page
    assert all(p.reference in page for p in shown)


def test_the_find_page_counts_a_list_without_words_to_the_lists_cap(
    alice, bob, monkeypatch
) -> None:
    """Without words the count stops where every long list's does (LIST_COUNT_CAP,
    "more than 1,000"): each row counted is a row of a wide table read, and
    counting ten times as many cost more than the rest of the page."""
    monkeypatch.setattr(_paging, "LIST_COUNT_CAP", 3)
    for n in range(5):
        proposal(alice, title=f"Kiosk {n}")
    client = Client()
    client.force_login(bob)

    assert "More than 3 proposals" in client.get("/proposals/").content.decode()
