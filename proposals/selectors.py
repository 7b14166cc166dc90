"""Every read of proposals starts here. `proposals_visible_to` is the one place
that decides who may see what (SPEC §1): pages, the API, search, reports and
exports all build on it, and anything outside it answers 404."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.postgres.search import SearchQuery, SearchQueryField, SearchRank
from django.db import connections
from django.db.models import (
    BooleanField,
    Case,
    Exists,
    ExpressionWrapper,
    F,
    FloatField,
    Func,
    IntegerField,
    Lookup,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.expressions import RawSQL
from django.db.models.sql.where import WhereNode
from django.http import Http404

from accounts.models import REVIEW_ROLES, Invitation, Role, User
from proposals import permissions as perms
from proposals.enums import AuditAudience, DecisionKind, OutcomeResult, Status, Visibility
from proposals.models import (
    Adoption,
    Assessment,
    AuditEvent,
    Decision,
    EvaluationPlan,
    Experiment,
    Outcome,
    Proposal,
    ProposalSearchText,
)

if TYPE_CHECKING:
    from collections.abc import Collection

    from django.contrib.auth.models import AnonymousUser


def government_wide() -> Q:
    """The proposals every signed-in person may see, analysts' whole view (SPEC §1):
    submitted (not a draft) and shared with all of government, as a Q on Proposal.

    Experiments and outcomes carry it as a column (`government_wide`, migration
    0023), kept by triggers in the writer's transaction whatever writes the
    proposal or the row (migration 0024, which holds the rule in SQL), so an
    analyst's experiments page and lessons library are each a walk of one
    partial index, with no join to a million proposals.
    """
    return ~Q(status=Status.DRAFT) & Q(visibility=Visibility.GOVERNMENT)


def is_government_wide(status: str, visibility: str) -> bool:
    """`government_wide()` of one proposal's status and visibility: for the services
    that set the column from a row in hand (tests/proposals/test_government_wide.py
    checks the two agree for every status and visibility)."""
    return status != Status.DRAFT and visibility == Visibility.GOVERNMENT


def _government_wide_only(user: User | AnonymousUser) -> bool:
    """Whether the user's view is `government_wide()` and nothing more: an analyst's."""
    return user.is_authenticated and user.is_active and user.role == Role.ANALYST


def visibility_filter(user: User | AnonymousUser) -> Q | None:
    """The visibility rule as a Q on Proposal; None means nothing is visible.

    Written as EXISTS subqueries rather than joins so the result never holds
    duplicate rows and the planner can still walk the (updated_at, id) index
    for a page of a large table.
    """
    if not user.is_authenticated or not user.is_active:
        return None
    through_authors = Proposal.co_authors.through
    through_collab = Proposal.collaborating_departments.through
    submitted = ~Q(status=Status.DRAFT)
    government = Q(visibility=Visibility.GOVERNMENT)
    if _government_wide_only(user):
        # Analysts read across government, but never drafts or department-only work.
        return government_wide()
    authored = Q(submitter_id=user.pk) | Exists(
        through_authors.objects.filter(proposal_id=OuterRef("pk"), user_id=user.pk)
    )
    departmental = Q(department_id=user.department_id) | Exists(
        through_collab.objects.filter(proposal_id=OuterRef("pk"), department_id=user.department_id)
    )
    return authored | (submitted & (government | departmental))


def proposals_visible_to(user: User | AnonymousUser) -> QuerySet[Proposal]:
    rule = visibility_filter(user)
    if rule is None:
        return Proposal.objects.none()
    return Proposal.objects.filter(rule)


# Followers checked per query: each is one boolean column of the visibility rule.
_FOLLOWERS_PER_QUERY = 100


def followers_who_may_see(proposal: Proposal) -> list[User]:
    """The proposal's followers who may see it now, by `visibility_filter`, in the
    order they followed: someone who followed it and can no longer see it (moved
    department, made department-only, deactivated) is told nothing. Two queries
    for up to 100 followers, one more for each hundred after."""
    followers = list(
        User.objects.filter(follows__proposal=proposal, is_active=True).order_by(
            "follows__created_at", "pk"
        )
    )
    may_see: set[int] = set()
    for start in range(0, len(followers), _FOLLOWERS_PER_QUERY):
        checks: dict[str, ExpressionWrapper[Q]] = {}
        for user in followers[start : start + _FOLLOWERS_PER_QUERY]:
            rule = visibility_filter(user)
            if rule is not None:
                checks[f"may_{user.pk}"] = ExpressionWrapper(rule, output_field=BooleanField())
        if not checks:
            continue
        row = Proposal.objects.filter(pk=proposal.pk).annotate(**checks).values(*checks).first()
        may_see |= {int(name[4:]) for name, allowed in (row or {}).items() if allowed}
    return [user for user in followers if user.pk in may_see]


def newest_authored(
    user: User, limit: int, *, statuses: Collection[str] | None = None
) -> list[Proposal]:
    """The user's proposals (as submitter or co-author), most recently changed
    first, at most `limit` of them (reference, title, status and updated_at only);
    only those in `statuses` if given.

    Two queries, each stopped by `limit`: the submitter's rows by the
    (submitter, updated_at) indexes, the co-authored ones from the user's
    co-author rows. One query with `submitter OR co-author` would walk the whole
    updated_at index for someone with few proposals, or sort all of someone's
    thousands. Both are still read through `proposals_visible_to`.
    """
    fields = ("reference", "title", "status", "updated_at")
    visible = proposals_visible_to(user)
    if statuses is not None:
        visible = visible.filter(status__in=list(statuses))
    co_authored = Proposal.co_authors.through.objects.filter(user_id=user.pk)
    rows: dict[Any, Proposal] = {}
    for branch in (
        visible.filter(submitter_id=user.pk),
        visible.filter(pk__in=co_authored.values("proposal_id")),
    ):
        for proposal in branch.only(*fields).order_by("-updated_at", "-pk")[:limit]:
            rows[proposal.pk] = proposal
    return sorted(rows.values(), key=lambda p: (p.updated_at, p.pk), reverse=True)[:limit]


def proposal_for(user: User | AnonymousUser, reference: str) -> Proposal:
    """One proposal by reference, or 404 if it does not exist or the user may not see it."""
    proposal = (
        proposals_visible_to(user)
        .select_related("department", "submitter", "challenge", "merged_into", "previous")
        .prefetch_related("co_authors", "themes", "collaborating_departments")
        .filter(reference=reference.upper())
        .first()
    )
    if proposal is None:
        raise Http404("No proposal with that reference")
    return proposal


def timeline_for(user: User, proposal: Proposal) -> QuerySet[AuditEvent]:
    """The proposal's audit events this viewer may see (SPEC §1)."""
    audiences = [AuditAudience.EVERYONE]
    # The reviewers' events (assignments, conflicts, scores) follow the assessment
    # rule, so a reviewer who wrote the proposal reads it as its other authors do.
    if perms.can_see_assessments(user, proposal):
        audiences += [AuditAudience.AUTHORS, AuditAudience.REVIEWERS]
    elif perms.is_author(user, proposal):
        audiences.append(AuditAudience.AUTHORS)
    return (
        AuditEvent.objects.filter(proposal=proposal, audience__in=audiences)
        .select_related("actor")
        .order_by("created_at", "id")
    )


# A proposal's reference, typed in any case (DFE-2026-0007): search finds that one alone.
REFERENCE_TEXT = re.compile(r"^[A-Za-z0-9]+-\d{4}-\d{4,}$")
# Words past this many add nothing a person meant and cost the index a lookup each.
SEARCH_WORDS_MAX = 32
_QUOTED = re.compile(r'"([^"]*)"?|(\S+)')


def search_proposals(queryset: QuerySet[Proposal], text: str) -> QuerySet[Proposal]:
    """Full-text search over the reference, title and every answer, within an
    already visibility-filtered queryset, best match first — the one search of
    Find proposals, the review queue, the API and reports.

    The words are read as a web search box reads them (PostgreSQL's
    `websearch_to_tsquery`): all of them, "a phrase" in quotes, `or` between
    alternatives, `-word` to leave out; on SQLite they are translated into an
    FTS5 query of quoted strings, so no input is FTS5 syntax. Stemmed on both
    (English on PostgreSQL, porter on SQLite): "applications" finds "application".

    Order: a proposal whose title is the words as typed, then those whose title
    holds them as a phrase, then rank (`ts_rank_cd` on the trigger-kept
    `search_vector`; bm25 on the FTS5 index), then most recently updated. The
    rows carry `search_title` (2, 1 or 0) and `search_rank` (higher is better).
    A reference typed in finds that proposal alone by its unique index, never
    by the text search.

    Every match is in the result (a report of a search holds them all), but a
    page of it — a slice, as the paginators take — is cut from a bounded window
    on PostgreSQL (`SearchResults`), so the first page of a word in a tenth of a
    million proposals costs what a rare word costs.
    """
    text = text.strip()
    if not text:
        return queryset
    if REFERENCE_TEXT.match(text):
        return queryset.filter(reference=text.upper()).annotate(
            search_title=Value(2, output_field=IntegerField()),
            search_rank=Value(1.0, output_field=FloatField()),
        )
    terms = _search_terms(text)
    if not terms.groups:
        return queryset.none()
    if settings.IS_POSTGRES:
        query = SearchQuery(text, search_type="websearch", config="english")
        title_query = _TitlePhraseQuery(terms.words)
        # Normalised by the length's logarithm, as bm25 favours the shorter answer.
        matched = queryset.filter(search_vector=query).annotate(
            search_title=_title_tier(text, _Matches(title_query)),
            search_rank=SearchRank(F("search_vector"), query, cover_density=True, normalization=1),
        )
        ordered = matched.order_by(*_SEARCH_ORDER)
        results = SearchResults(model=Proposal, query=ordered.query.chain(), using=ordered.db)
        results._search_window = _Window(text=text)
        return results
    # One pass over the FTS5 index, each match joined to its proposal by
    # primary key, ranked with bm25 in the same scan.
    document = F("search_text__document")
    phrase = " ".join(terms.words)
    matched = queryset.filter(search_text__document__fts5=terms.fts5()).annotate(
        search_title=_title_tier(
            text, Case(When(title__icontains=phrase, then=Value(1)), default=Value(0))
        ),
        search_rank=_Bm25(document),
    )
    return matched.order_by(*_SEARCH_ORDER)


_SEARCH_ORDER = ("-search_title", "-search_rank", "-updated_at", "-pk")
# The rows a page of search results is chosen from: the best this many by the
# index's own order (and a title typed in whole). A page deeper than the window
# is cut from the next size up, so pages within one size list every candidate
# once; across sizes a row of equal rank may move. Past the last size a
# paginator may reach, the full order is used.
SEARCH_WINDOW = 200
SEARCH_WINDOW_MAX = 10_001 + 500
# With RUM, a search is read in rank order while its matches are fewer than this.
SEARCH_RANKED_MATCHES = 2_000


def _window_size(stop: int) -> int:
    for size in (SEARCH_WINDOW, 5 * SEARCH_WINDOW):
        if stop <= size:
            return size
    return SEARCH_WINDOW_MAX


@dataclass(frozen=True)
class _Window:
    text: str  # as typed


class SearchResults(QuerySet[Proposal]):
    """A PostgreSQL search's rows, best first; a slice of it (a page) is cut from
    a window of candidates rather than from every match ranked.

    The window is worked out when the slice is taken, from this queryset as it
    then stands, so every filter added after the search (status, department, the
    API's settling lag) is inside it. Its candidates: the first SEARCH_WINDOW
    matches found (or as many as the slice reaches), in no particular order —
    or, with `search_uses_rum`, the best of them by `search_vector <=> query`,
    read from the RUM index in rank order while the matches are few — and any
    whose title is the words as typed (by the title's own index). Those are
    ranked in full (title tier, ts_rank_cd, recency) and the slice taken from
    them. Ordered differently (`order_by`), counted, or sliced past
    SEARCH_WINDOW_MAX, it is an ordinary queryset of every match.
    """

    _search_window: _Window | None = None
    # The candidates found for a window size (`capped_count`), kept for the slice
    # that follows: a page's count and its rows walk the same first matches.
    _search_found: dict[int, _Found] | None = None

    def _clone(self) -> Any:
        clone = super()._clone()  # type: ignore[misc]  # QuerySet._clone, missing from the stubs
        clone._search_window = self._search_window
        return clone

    def _windows(self, stop: int) -> bool:
        return (
            self._search_window is not None
            and stop <= SEARCH_WINDOW_MAX
            and self._result_cache is None
            and tuple(self.query.order_by) == _SEARCH_ORDER
        )

    def __getitem__(self, k: Any) -> Any:
        window = self._search_window
        if (
            window is not None
            and isinstance(k, slice)
            and k.stop is not None
            and self._windows(k.stop)
        ):
            return QuerySet.__getitem__(self._windowed(window, k.stop), k)
        return super().__getitem__(k)

    def capped_count(self, cap: int) -> int | None:
        """How many rows match, counted to at most `cap` + 1, from the candidates
        of the first page's window (found once, kept for the page's slice), so a
        paginator's count and its page walk the matches once between them. None
        where no window applies (ordered otherwise, or a cap past the window):
        count the ordinary way."""
        window = self._search_window
        if window is None or cap + 1 > SEARCH_WINDOW + 1 or not self._windows(SEARCH_WINDOW):
            return None
        found = self._found(window, SEARCH_WINDOW)
        return min(len(found.first), cap + 1)

    def _found(self, window: _Window, size: int) -> _Found:
        found = (self._search_found or {}).get(size)
        if found is None:
            statement, values = self._candidates(window, size)
            with connections[self.db].cursor() as cursor:
                cursor.execute(f"SELECT pk, branch FROM ({statement}) AS candidates", values)  # noqa: S608
                rows = cursor.fetchall()
            found = _Found(
                first=[pk for pk, branch in rows if branch == 0],
                exact=[pk for pk, branch in rows if branch == 1],
            )
            self._search_found = {**(self._search_found or {}), size: found}
        return found

    def _windowed(self, window: _Window, stop: int) -> QuerySet[Any]:
        size = _window_size(stop)
        found = (self._search_found or {}).get(size)
        if found is not None:
            # Counted already: the page reads the same candidates by primary key.
            candidates: Any = [*found.first, *found.exact]
        else:
            statement, values = self._candidates(window, size)
            # One statement: the candidates are the page query's subquery.
            candidates = RawSQL(f"SELECT pk FROM ({statement}) AS candidates", values)  # noqa: S608, S611
        narrowed = self.all()
        narrowed._search_window = None
        # Every candidate passed this queryset's filters already: the page's
        # query reads them by primary key and ranks them, nothing more.
        narrowed.query.where = WhereNode()
        return narrowed.filter(pk__in=candidates)

    def _candidates(self, window: _Window, size: int) -> tuple[str, tuple[Any, ...]]:
        """The window's candidates as SQL of (pk, branch): branch 0 the first
        `size` + 1 matches (the one past the window tells a count there are
        more), branch 1 a title that is the words as typed."""
        # The candidates from this queryset's own filters (visibility included),
        # bare: no ranking, no annotations, no columns but the key. Written as
        # SQL around the filters' own SQL, compiled once: built as nested
        # querysets, Django re-labels the visibility rule's subqueries for each
        # copy, which cost more than the search itself.
        bare: QuerySet[Any] = QuerySet(model=self.model, query=self.query.chain(), using=self.db)
        bare.query.clear_ordering(force=True)
        bare.query.clear_limits()
        bare.query.select_related = False
        sql, params = bare.values("pk").query.sql_with_params()
        quote = connections[self.db].ops.quote_name
        vector = f"{quote(self.model._meta.db_table)}.{quote('search_vector')}"
        query = "websearch_to_tsquery('english'::regconfig, %s)"
        table = quote(self.model._meta.db_table)
        first = f"{sql} LIMIT {size + 1:d}"
        # The title typed in whole, by its index (0017), however common its words.
        title = f"UPPER({table}.{quote('title')}::text)"
        exact = f"{sql} AND {title} = UPPER(%s) LIMIT {size:d}"
        if search_uses_rum(self.db):
            # RUM scores every match to return the best first: cheap for the words
            # people mostly type, not for a word in a tenth of all proposals. So
            # the best come in rank order while the matches are fewer than
            # SEARCH_RANKED_MATCHES (counted, up to that, in the same statement),
            # else the first found, as without RUM; one branch runs, never both.
            limit = SEARCH_RANKED_MATCHES
            ranked = f"{sql} ORDER BY {vector} <=> {query} LIMIT {size + 1:d}"
            statement = (
                f"WITH common AS (SELECT count(*) >= {limit:d} AS yes FROM (SELECT 1 FROM"  # noqa: S608
                f" {table} WHERE {vector} @@ {query} LIMIT {limit:d}) AS matches)"
                f" SELECT pk, 0 AS branch FROM ({ranked}) AS ranked"
                " WHERE NOT (SELECT yes FROM common)"
                f" UNION ALL SELECT pk, 0 FROM ({first}) AS first WHERE (SELECT yes FROM common)"
                f" UNION ALL SELECT pk, 1 FROM ({exact}) AS exact"
            )
            values: tuple[Any, ...] = (
                window.text,
                *params,
                window.text,
                *params,
                *params,
                window.text,
            )
        else:
            statement = (
                f"SELECT pk, 0 AS branch FROM ({first}) AS first"  # noqa: S608
                f" UNION ALL SELECT pk, 1 FROM ({exact}) AS exact"
            )
            values = (*params, *params, window.text)
        # Every value is a parameter; the SQL is Django's own and these constants.
        return statement, values


@dataclass(frozen=True)
class _Found:
    """A window's candidates by primary key: the first matches, and exact titles."""

    first: list[Any]
    exact: list[Any]


def search_uses_rum(using: str = "default") -> bool:
    """Whether a page of search results takes its window from the RUM index in
    rank order: only with `settings.SEARCH_RUM` (env SEARCH_RUM=true) and where
    `0018_search_rank` made the index (the rum extension installed). Looked up
    once per connection with the driver's own cursor, so it is never one of a
    page's counted queries.

    Off by default, as measured (README, Search): RUM scores every match to
    return the best first, so a word in a tenth of all proposals costs ten
    times what it costs at a tenth of the size, where the window of first
    matches costs the same at any size."""
    if not getattr(settings, "SEARCH_RUM", False):
        return False
    connection = connections[using]
    if connection.vendor != "postgresql":
        return False
    cached = getattr(connection, "_proposal_search_rum", None)
    if cached is not None and cached[0] is connection.connection:
        return bool(cached[1])
    connection.ensure_connection()
    with connection.connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('proposal_search_rum') IS NOT NULL")
        row = cursor.fetchone()
    found = bool(row and row[0])
    connection._proposal_search_rum = (connection.connection, found)  # type: ignore[attr-defined]
    return found


def _title_tier(text: str, phrase: Any) -> Case:
    """2 where the title is the words as typed, 1 where it holds them as a phrase
    (PostgreSQL: stemmed, from the vector's title lexemes; SQLite: the words as
    typed, in any case), else 0: worked out for the matched rows only."""
    if isinstance(phrase, _Matches):
        phrase = Case(When(phrase, then=Value(1)), default=Value(0))
    return Case(
        When(title__iexact=text, then=Value(2)), default=phrase, output_field=IntegerField()
    )


@dataclass(frozen=True)
class _Terms:
    """A search box's words: groups that must all match, each any of its
    alternatives (a word or a phrase, as a tuple of words), and words to leave out."""

    groups: tuple[tuple[tuple[str, ...], ...], ...]
    excluded: tuple[tuple[str, ...], ...]
    words: tuple[str, ...]

    def fts5(self) -> str:
        must = " AND ".join(
            "(" + " OR ".join(_fts5_string(alt) for alt in group) + ")" for group in self.groups
        )
        if not self.excluded:
            return must
        return f"({must}) NOT (" + " OR ".join(_fts5_string(alt) for alt in self.excluded) + ")"


def _fts5_string(words: tuple[str, ...]) -> str:
    # An FTS5 string is never syntax: NEAR, AND, *, -, ( and : inside it are text.
    return '"' + " ".join(words).replace('"', '""') + '"'


def _words_of(chunk: str) -> tuple[str, ...]:
    # Letters and digits only (unicode61's own idea of a token), so no string is empty.
    return tuple(re.findall(r"[^\W_]+", chunk))


def _search_terms(text: str) -> _Terms:
    groups: list[list[tuple[str, ...]]] = []
    excluded: list[tuple[str, ...]] = []
    words: list[str] = []
    join_next = False
    for match in _QUOTED.finditer(text):
        phrase, bare = match.group(1), match.group(2)
        if bare is not None and bare.lower() == "or" and groups:
            join_next = True
            continue
        negative = bare is not None and bare.startswith("-") and len(bare) > 1
        alternative = _words_of(phrase if phrase is not None else bare)
        if not alternative:
            continue
        if negative:
            excluded.append(alternative)
            continue
        words.extend(alternative)
        if join_next:
            groups[-1].append(alternative)
        else:
            groups.append([alternative])
        join_next = False
        if len(words) >= SEARCH_WORDS_MAX:
            break
    return _Terms(
        groups=tuple(tuple(group) for group in groups),
        excluded=tuple(excluded),
        words=tuple(words[:SEARCH_WORDS_MAX]),
    )


class _Fts5Match(Lookup):  # type: ignore[type-arg]
    """`document__fts5=query`: the FTS5 table's hidden column MATCH the query
    (SQLite). A lookup rather than an expression so the joins to the index are
    inner joins, which FTS5 needs to drive the query from its index."""

    lookup_name = "fts5"

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} MATCH {rhs}", [*lhs_params, *rhs_params]


# On this one field only (a lookup registered on a field instance).
ProposalSearchText._meta.get_field("document").register_lookup(_Fts5Match)


class _Bm25(Func):
    """bm25, negated so that higher is better as on PostgreSQL, each column
    weighed as PostgreSQL's A, B, C and D weigh them (1.0, 0.4, 0.2, 0.1):
    reference and title 10, summary 4, problem and proposed solution 2, who has
    the problem and expected benefits 1 (the FTS5 table's column order)."""

    function = "bm25"
    template = "-%(function)s(%(expressions)s, 10.0, 10.0, 4.0, 2.0, 1.0, 2.0, 1.0)"
    output_field = FloatField()


class _TitlePhraseQuery(Func):
    """The words as a phrase in the title (or the reference): the vector's
    A-weighted lexemes, each word `:A`, next to each other (`<->`). Built with
    `to_tsquery` from words of letters and digits only, so no input is syntax;
    stop words drop out as they do from the vector."""

    template = "to_tsquery('english'::regconfig, %(expressions)s)"
    output_field = SearchQueryField()

    def __init__(self, words: tuple[str, ...]) -> None:
        super().__init__(Value(" <-> ".join(f"{word}:A" for word in words)))


class _Matches(Func):
    """`search_vector @@ query`, as a boolean expression (a filter or a CASE)."""

    output_field = BooleanField()
    template = "(%(expressions)s)"
    arg_joiner = " @@ "

    def __init__(self, query: Any) -> None:
        super().__init__(F("search_vector"), query)


# --- the objects around a proposal ------------------------------------------------------------
#
# Each rule below is a Q on its own model, built on `visibility_filter`, so a page,
# an API list, a report and an export ask the same question in SQL. The rules,
# in SPEC §1's words:
#   experiments       everyone who may see the proposal;
#   outcomes          published: everyone who may see the proposal; unpublished:
#                     the owning department's reviewers and leads (who record and
#                     publish them), never other departments or analysts;
#   decisions         approve and reject: with the proposal; a request for more
#                     information: its authors and the owning department's panel;
#   assessments       the owning department's reviewers and leads, except on a
#                     proposal they wrote, and — while their own assessment of it
#                     is not submitted — nobody's but their own (independent scoring).


def _written_by(user: User) -> Q:
    """On a model with a `proposal`: its proposal was written by `user`."""
    return Q(proposal__submitter_id=user.pk) | Q(
        Exists(
            Proposal.co_authors.through.objects.filter(
                proposal_id=OuterRef("proposal_id"), user_id=user.pk
            )
        )
    )


def _panel_member(user: User | AnonymousUser) -> User | None:
    """The user if they sit on a review panel (an active reviewer or lead)."""
    if isinstance(user, User) and user.is_active and user.role in REVIEW_ROLES:
        return user
    return None


def experiments_visible_to(user: User | AnonymousUser) -> QuerySet[Experiment]:
    if _government_wide_only(user):
        # The proposal's rule, read from the experiment's own column (see `government_wide`).
        return Experiment.objects.filter(government_wide=True)
    return Experiment.objects.filter(proposal__in=proposals_visible_to(user))


def evaluations_visible_to(user: User | AnonymousUser) -> QuerySet[EvaluationPlan]:
    """Evaluation plans go with their experiment (and so with its proposal)."""
    return EvaluationPlan.objects.filter(experiment__in=experiments_visible_to(user))


def outcome_filter(user: User | AnonymousUser) -> Q | None:
    """The outcome rule as a Q on Outcome; None means nothing is visible."""
    rule = visibility_filter(user)
    if rule is None:
        return None
    shown = Q(published=True)
    panel = _panel_member(user)
    if panel is not None:
        shown |= Q(experiment__proposal__department_id=panel.department_id)
    if _government_wide_only(user):
        # The proposal's rule, read from the outcome's own column (see `government_wide`).
        return shown & Q(government_wide=True)
    return shown & Q(experiment__proposal__in=Proposal.objects.filter(rule))


def outcomes_visible_to(user: User | AnonymousUser) -> QuerySet[Outcome]:
    rule = outcome_filter(user)
    if rule is None:
        return Outcome.objects.none()
    return Outcome.objects.filter(rule)


def published_outcomes_visible_to(user: User | AnonymousUser) -> QuerySet[Outcome]:
    """The lessons library: published outcomes of proposals this user may see."""
    return outcomes_visible_to(user).filter(published=True)


def outcome_of(user: User | AnonymousUser, experiment: Experiment) -> Outcome | None:
    """The experiment's outcome if the viewer may read it."""
    return outcomes_visible_to(user).filter(experiment=experiment).first()


def outcomes_of(user: User | AnonymousUser, proposal: Proposal) -> dict[int, Outcome]:
    """The outcomes of this proposal's experiments the viewer may read, by experiment id."""
    return {
        outcome.experiment_id: outcome
        for outcome in outcomes_visible_to(user).filter(experiment__proposal=proposal)
    }


def adoption_filter(user: User | AnonymousUser) -> Q | None:
    """The adoption rule as a Q on Adoption; None means none are visible.

    An adoption is seen with its adopting proposal, never with the lesson it
    adopted. The adopting proposal starts as a draft, which is its authors'
    alone (SPEC §1), and may stay department-only: counting it for anyone else,
    even as a number of departments, would disclose that it exists. So every
    count of adoptions (the lesson, the original, the portfolio) is of the
    adoptions its viewer may see.
    """
    rule = visibility_filter(user)
    if rule is None:
        return None
    return Q(proposal__in=Proposal.objects.filter(rule))


def adoptions_visible_to(user: User | AnonymousUser) -> QuerySet[Adoption]:
    rule = adoption_filter(user)
    if rule is None:
        return Adoption.objects.none()
    return Adoption.objects.filter(rule)


def met_target(user: User | AnonymousUser, proposal: str = "proposal_id") -> Exists:
    """For a subquery: the proposal named by `proposal` (an OuterRef path) has an
    experiment whose outcome this viewer may read and whose result is met."""
    return Exists(
        outcomes_visible_to(user).filter(
            experiment__proposal_id=OuterRef(proposal), result=OutcomeResult.MET
        )
    )


# Decisions that are the proposal's answer, seen with the proposal (SPEC §1).
FINAL_DECISIONS = (DecisionKind.APPROVE, DecisionKind.REJECT)


def decision_filter(user: User | AnonymousUser) -> Q:
    """The decision rule as a Q on Decision (for proposals already visible)."""
    final = Q(kind__in=FINAL_DECISIONS)
    if not isinstance(user, User):
        return final
    shown = final | _written_by(user)
    panel = _panel_member(user)
    if panel is not None:
        shown |= Q(proposal__department_id=panel.department_id)
    return shown


def decisions_visible_to(user: User | AnonymousUser, proposal: Proposal) -> QuerySet[Decision]:
    """This proposal's decisions the viewer may read, newest first."""
    return Decision.objects.filter(decision_filter(user), proposal=proposal).order_by(
        "-created_at", "-id"
    )


def latest_decision(user: User | AnonymousUser) -> QuerySet[Decision]:
    """For a subquery on Proposal: its newest decision this viewer may read."""
    return Decision.objects.filter(decision_filter(user), proposal=OuterRef("pk")).order_by(
        "-created_at", "-id"
    )


def scores_hidden_ids(user: User) -> QuerySet[Any]:
    """The ids of the proposals whose assessments (and the panel's mean, spread and
    recommendations) this panel member may not read yet: those they wrote or
    co-wrote, and those whose assessment they have still to submit.

    Found from the person's side (their proposals, co-authorships and open
    assessments, each by an index), so it is a short list however many
    proposals a department has."""
    # Unordered parts: a compound SELECT takes no ORDER BY inside (SQLite refuses it).
    return (
        Proposal.objects.filter(submitter_id=user.pk)
        .order_by()
        .values("pk")
        .union(
            Proposal.co_authors.through.objects.filter(user_id=user.pk)
            .order_by()
            .values("proposal_id"),
            Assessment.objects.filter(assessor_id=user.pk, submitted_at__isnull=True)
            .order_by()
            .values("proposal_id"),
            all=True,
        )
    )


def scores_hidden_filter(user: User) -> Q:
    """`scores_hidden_ids` as a Q on Proposal, asked of each row (an index probe
    each): the cheaper form where the rows are few or walked in order — one
    proposal's figures, a page of the panel sheet."""
    return (
        Q(submitter_id=user.pk)
        | Exists(
            Proposal.co_authors.through.objects.filter(proposal_id=OuterRef("pk"), user_id=user.pk)
        )
        | Exists(
            Assessment.objects.filter(
                proposal_id=OuterRef("pk"), assessor_id=user.pk, submitted_at__isnull=True
            )
        )
    )


def assessment_filter(user: User | AnonymousUser) -> Q | None:
    """The assessment rule as a Q on Assessment; None means none are visible."""
    panel = _panel_member(user)
    if panel is None:
        return None
    pending_mine = Q(
        Exists(
            Assessment.objects.filter(
                proposal_id=OuterRef("proposal_id"),
                assessor_id=panel.pk,
                submitted_at__isnull=True,
            )
        )
    )
    return (
        Q(proposal__department_id=panel.department_id)
        & ~_written_by(panel)
        & (Q(assessor_id=panel.pk) | ~pending_mine)
    )


def assessments_visible_to(
    user: User | AnonymousUser, proposal: Proposal | None = None
) -> QuerySet[Assessment]:
    """The assessments (scores, comments, conflict declarations) this viewer may read.

    Authors get assessors' comments once released, through `feedback_visible_to`.
    """
    rule = assessment_filter(user)
    if rule is None:
        return Assessment.objects.none()
    assessments = Assessment.objects.filter(rule)
    if proposal is not None:
        assessments = assessments.filter(proposal=proposal)
    return assessments


# Words too common in proposals to say two of them are alike (on top of the
# search configuration's English stop words).
_COMMON_WORDS = frozenset(
    [
        "about",
        "also",
        "could",
        "from",
        "have",
        "into",
        "more",
        "need",
        "needs",
        "other",
        "over",
        "should",
        "some",
        "than",
        "that",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "using",
        "what",
        "when",
        "which",
        "will",
        "with",
        "would",
    ]
)


def distinct_words(*texts: str, limit: int = 24) -> list[str]:
    words: list[str] = []
    for text in texts:
        for word in re.findall(r"[A-Za-z][A-Za-z0-9]{2,}", text or ""):
            lowered = word.lower()
            if lowered not in _COMMON_WORDS and lowered not in words:
                words.append(lowered)
    return words[:limit]


def feedback_visible_to(user: User, proposal: Proposal) -> QuerySet[Assessment]:
    """Submitted assessments whose comments a lead has released to the authors."""
    if not (proposal.feedback_released and perms.can_see_feedback(user, proposal)):
        return Assessment.objects.none()
    return Assessment.objects.filter(proposal=proposal, submitted_at__isnull=False)


# --- invitations ---------------------------------------------------------------------------


def invitations_visible_to(user: User) -> QuerySet[Invitation]:
    """The invitations a lead sees: their department's; an operator sees every department's."""
    rows = Invitation.objects.select_related("department", "invited_by", "user")
    if perms.is_operator(user):
        return rows
    if perms.can_manage_invitations(user):
        return rows.filter(department_id=user.department_id)
    return rows.none()


def invitation_by_token(token: str) -> Invitation | None:
    """The invitation a link's token opens, whatever its state (the page says which)."""
    if not token:
        return None
    return (
        Invitation.objects.select_related("department")
        .filter(token_hash=Invitation.hash_token(token))
        .first()
    )
