"""Similar proposals and lessons from across government: meaning and words together.

One implementation behind every door (proposing, the proposal page's "Related",
triage, and the API's `similar/` endpoints):

1. the draft's text is embedded here and now (about a millisecond), and compared
   by dot product with the stored vectors in a matrix each process keeps in
   memory (`VectorIndex`, synced from `SimilarityVector` by the rows changed
   since it last looked: one indexed query a call);
2. the same draft's distinctive words are looked up in the full-text index, so a
   proposal with the same rare words ranks high even when its wording is
   otherwise different;
3. the candidates of both go through the one visibility rule (`selectors`), in
   one query each for proposals and lessons, and are ranked by
   cosine + LEXICAL_WEIGHT × (lexical rank / best lexical rank).

Below APPROXIMATE_FROM vectors the search is exact (about 12 ms at 100,000). Past
it the index is an inverted file: the vectors are clustered by spherical k-means,
the matrix is kept sorted by cluster, and a query scores only the clusters whose
centres are nearest it, plus the outliers and the rows added or changed since the
last sort (a whole query p95 54 ms instead of 146 at 1,000,000, the same answers;
a process's first load 12 s longer). README "Similar proposals" has the measurements.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any
from uuid import UUID

import numpy as np
from django.conf import settings
from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db.models import BinaryField, Case, F, Q, Subquery, Value, When
from django.utils import timezone

from proposals import embeddings, selectors
from proposals.enums import Status
from proposals.models import Proposal, SimilarityVector

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from accounts.models import Department, User

# Measured on the relevance fixture: 0.2 moved recall@3 from 0.90 to 0.95; more
# than 0.5 lets one shared rare word outvote the meaning.
LEXICAL_WEIGHT = 0.2
# Below this a "similar" proposal is noise. On the relevance fixture the pairs
# that are the same idea score 0.29-0.55 by cosine alone; 90% of unrelated
# pairs score under 0.24 (99% under 0.36), and a shared title adds up to 0.2.
# 0.3 cut off two of the twenty partners; "nothing similar" is the worse miss.
MIN_SCORE = 0.25
# Vectors considered before the visibility rule; what a viewer may see among the
# nearest few hundred is enough for a top 5.
CANDIDATES = 200
LEXICAL_CANDIDATES = 20
LEXICAL_SCAN = 1000
# A process re-reads every vector this often (deleted rows, and any row whose
# transaction committed more than SYNC_OVERLAP after it was stamped, are caught
# then); in between it fetches rows stamped since its last look, less
# SYNC_OVERLAP (a worker's batch commits within seconds of its stamp). Of those,
# only rows stamped after the newest it holds come with their vector: the rest
# (mostly rows it has) come as key and stamp, and any it lacks are fetched after.
FULL_RELOAD_SECONDS = 600
SYNC_OVERLAP = dt.timedelta(seconds=30)
HIDDEN_STATUSES = (Status.DRAFT, Status.WITHDRAWN, Status.MERGED)
# The inverted file. Exact search grows with the vectors (at 1,000,000 the matrix
# product and argpartition over every row were most of a 130 ms query); below this
# it is fast enough, and small databases and tests keep the exact answer.
APPROXIMATE_FROM = 100_000
# Clusters: about sqrt(N) within these bounds. Each costs an N-row dot product to
# assign, so more than 512 made the first load at 1,000,000 seconds slower for a
# query a few milliseconds faster.
MIN_LISTS = 64
MAX_LISTS = 512
# The share of clusters a query scores. Measured on the seeded database and the
# relevance fixture's drafts (README): at 1/8, recall@200 against exact search was
# over 0.99 and the top 10 were the same.
PROBE_SHARE = 8
# A row far from its cluster's centre (a text unlike the rest, such as the relevance
# fixture's among the seed's near-copies, 0.2-0.67 where 99% of rows are over 0.8)
# is missed by a query that probes other clusters: at 1,000,000 the partner ranked
# first by exact search was lost. Such rows are kept in one more span that every
# query scores: those under this cosine, at most 1/OUTLIER_SHARE of the rows.
OUTLIER_COSINE = 0.7
OUTLIER_SHARE = 8
TRAINING_PER_LIST = 64  # sample rows per cluster for k-means
TRAINING_ROUNDS = 8
TRAINING_SEED = 0
# Rows added since the last sort (a contiguous tail) and sorted rows whose vector
# changed since (scattered, so dearer to gather) are scored for every query; past
# these shares of the index they are assigned to clusters and the matrix is sorted
# again (about a second at 1,000,000).
TAIL_SHARE = 20
CHANGED_SHARE = 200
ASSIGN_BATCH = 65_536


@dataclass(frozen=True)
class Match:
    kind: str  # "proposal" or "lesson"
    reference: str
    title: str
    department: Department
    status: str
    status_label: str
    score: float
    result: str = ""  # a lesson's OutcomeResult
    result_label: str = ""


class VectorIndex:
    """Every stored vector as one matrix, kept in step with the database.

    From APPROXIMATE_FROM vectors it is also an inverted file: rows [0, _sorted)
    are ordered by cluster (cluster c is rows _offsets[c] to _offsets[c + 1]), so a
    query scores contiguous slices; after the last cluster come the outliers (rows
    far from every centre), and rows appended since (the tail) and sorted rows whose
    vector changed since (`_changed`): all three are scored by every query.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._centroids: np.ndarray | None = None
        self._trained_on = 0
        self._clear()

    def _clear(self) -> None:
        self._matrix = np.zeros((0, embeddings.DIMENSIONS), dtype=np.float32)
        self._count = 0
        self._row_of: dict[int, int] = {}
        self._stamps: dict[int, dt.datetime] = {}
        self._own_row: dict[UUID, int] = {}  # a proposal's own vector (not a lesson's)
        self._pks: list[int] = []  # each row's SimilarityVector key
        self._proposal_ids: list[UUID] = []
        self._outcome_ids: list[int | None] = []
        self._newest: dt.datetime | None = None  # the newest stamp held
        self._looked_at: dt.datetime | None = None  # when the last sync began
        self._loaded_at = 0.0
        self._lists = np.zeros(0, dtype=np.int32)  # each sorted row's cluster
        self._offsets: np.ndarray | None = None  # None: exact search
        self._sorted = 0
        self._changed: set[int] = set()

    def reset(self) -> None:
        """Forget everything; the next call reloads every vector."""
        with self._lock:
            self._centroids = None
            self._trained_on = 0
            self._clear()

    def __len__(self) -> int:
        return self._count

    def sync(self) -> None:
        with self._lock:
            carried: _Carried | None = None
            if time.monotonic() - self._loaded_at > FULL_RELOAD_SECONDS:
                # The clusters of rows that come back unchanged are kept: assigning
                # 1,000,000 rows again would cost seconds every FULL_RELOAD_SECONDS.
                if self._offsets is not None:
                    carried = _Carried(
                        self._row_of, self._stamps, self._lists, self._sorted, self._changed
                    )
                self._clear()
                self._loaded_at = time.monotonic()
            looking = timezone.now()
            rows = SimilarityVector.objects.order_by("updated_at")
            if self._looked_at is None or self._newest is None:
                fetched = list(
                    rows.values_list("pk", "proposal_id", "outcome_id", "vector", "updated_at")
                )
            else:
                # Anchored on when the last sync began, not on the newest stamp: a
                # burst of writes (the sweep after a bulk load) is re-read for
                # SYNC_OVERLAP after it, not by every later call until the next write.
                newest = self._newest
                window = rows.filter(updated_at__gt=self._looked_at - SYNC_OVERLAP).annotate(
                    fresh=Case(
                        When(updated_at__gt=newest, then=F("vector")),
                        default=Value(None),
                        output_field=BinaryField(),
                    )
                )
                found = list(
                    window.values_list("pk", "proposal_id", "outcome_id", "fresh", "updated_at")
                )
                # Stamped no later than what this process holds, yet not held: a
                # transaction that committed after the last look (rare; a query more).
                late = [
                    pk
                    for pk, _, _, vector, stamp in found
                    if vector is None and self._stamps.get(pk) != stamp
                ]
                fetched = [row for row in found if row[3] is not None]
                if late:
                    fetched += rows.filter(pk__in=late).values_list(
                        "pk", "proposal_id", "outcome_id", "vector", "updated_at"
                    )
            self._looked_at = looking
            if fetched:
                self._add(fetched)
                newest_fetched = max(row[4] for row in fetched)
                self._newest = max(self._newest or newest_fetched, newest_fetched)
            self._maintain(carried)

    def _add(self, rows: Sequence[tuple[int, UUID, int | None, Any, dt.datetime]]) -> None:
        # The overlap fetches some rows again: only those stamped anew are converted.
        fresh = [row for row in rows if self._stamps.get(row[0]) != row[4]]
        if not fresh:
            return
        needed = self._count + sum(1 for row in fresh if row[0] not in self._row_of)
        if needed > len(self._matrix):
            size = (max(needed, 2 * len(self._matrix), 1024), embeddings.DIMENSIONS)
            grown = np.zeros(size, dtype=np.float32)
            grown[: self._count] = self._matrix[: self._count]
            self._matrix = grown
        positions = []
        for pk, proposal_id, outcome_id, _, stamp in fresh:
            row = self._row_of.get(pk)
            if row is None:
                row = self._count
                self._count += 1
                self._row_of[pk] = row
                self._pks.append(pk)
                self._proposal_ids.append(proposal_id)
                self._outcome_ids.append(outcome_id)
            else:
                self._proposal_ids[row] = proposal_id
                self._outcome_ids[row] = outcome_id
            self._stamps[pk] = stamp
            if outcome_id is None:
                self._own_row[proposal_id] = row
            positions.append(row)
        vectors = embeddings.matrix_from_bytes([row[3] for row in fresh])
        if self._sorted:
            # A sorted row whose vector moved may now belong to another cluster: it is
            # scored as a loose row until the next sort. Restamped rows whose vector
            # is the same (the sweep touches unchanged rows) stay where they are.
            at = np.asarray(positions)
            inside = at < self._sorted
            moved = inside & ~(self._matrix[at] == vectors).all(axis=1)
            self._changed.update(at[moved].tolist())
        self._matrix[positions] = vectors

    # --- the inverted file -------------------------------------------------------

    def _maintain(self, carried: _Carried | None = None) -> None:
        """Build, re-sort or drop the inverted file for the rows now held."""
        if self._count < APPROXIMATE_FROM:
            self._offsets = None
            self._sorted = 0
            self._changed = set()
            return
        if self._centroids is None or self._count >= 4 * self._trained_on:
            # Trained again only when the index has grown fourfold: the clusters
            # describe what the proposals are about, which changes slowly.
            self._train()
            self._sort(None)
        elif (
            self._count - self._sorted > self._count // TAIL_SHARE
            or len(self._changed) > self._count // CHANGED_SHARE
        ):
            self._sort(carried)

    def _train(self) -> None:
        """Spherical k-means on a sample, the same for the same rows in any order."""
        lists = int(np.clip(round(np.sqrt(self._count)), MIN_LISTS, MAX_LISTS))
        generator = np.random.default_rng(TRAINING_SEED)
        # Sampled by key, not by row: the rows' order depends on when each was loaded.
        by_key = np.argsort(np.asarray(self._pks, dtype=np.int64), kind="stable")
        size = min(self._count, lists * TRAINING_PER_LIST)
        sample = self._matrix[by_key[np.sort(generator.choice(self._count, size, replace=False))]]
        centroids = sample[generator.choice(size, lists, replace=False)].copy()
        for _ in range(TRAINING_ROUNDS):
            nearest = np.argmax(sample @ centroids.T, axis=1)
            sums = np.zeros_like(centroids)
            np.add.at(sums, nearest, sample)
            norms = np.linalg.norm(sums, axis=1, keepdims=True)
            # A cluster that lost every row keeps its centre rather than becoming 0.
            centroids = np.where(norms > 0, sums / np.maximum(norms, 1e-12), centroids)
        self._centroids = centroids.astype(np.float32)
        self._trained_on = self._count

    def _sort(self, carried: _Carried | None) -> None:
        """Assign every loose row to its cluster and order the matrix by cluster."""
        assert self._centroids is not None
        count = self._count
        lists = np.full(count, -1, dtype=np.int32)
        if self._offsets is not None and self._sorted:
            lists[: self._sorted] = self._lists[: self._sorted]
            lists[list(self._changed)] = -1
        elif carried is not None:
            lists[:] = carried.lists_for(self._pks, self._stamps)
        clusters = len(self._centroids)
        loose = np.flatnonzero((lists < 0) | (lists == clusters))
        closeness = np.full(count, np.inf, dtype=np.float32)
        for start in range(0, len(loose), ASSIGN_BATCH):
            rows = loose[start : start + ASSIGN_BATCH]
            scores = self._matrix[rows] @ self._centroids.T
            lists[rows] = np.argmax(scores, axis=1)
            closeness[rows] = scores[np.arange(len(rows)), lists[rows]]
        # Outliers are chosen among the rows just assigned (carried outliers are
        # assigned again, being few); a carried row in a cluster keeps its place.
        far = loose[closeness[loose] < OUTLIER_COSINE]
        far = far[np.argsort(closeness[far], kind="stable")][: count // OUTLIER_SHARE]
        lists[far] = clusters
        order = np.argsort(lists, kind="stable")
        self._matrix[:count] = self._matrix[order]
        self._pks = [self._pks[i] for i in order.tolist()]
        self._proposal_ids = [self._proposal_ids[i] for i in order.tolist()]
        self._outcome_ids = [self._outcome_ids[i] for i in order.tolist()]
        self._row_of = {pk: row for row, pk in enumerate(self._pks)}
        new_row = np.empty(count, dtype=np.int64)
        new_row[order] = np.arange(count)
        moved = new_row.tolist()
        self._own_row = {pk: moved[row] for pk, row in self._own_row.items()}
        self._lists = lists[order]
        self._offsets = np.searchsorted(self._lists, np.arange(clusters + 2))
        self._sorted = count
        self._changed = set()

    def _candidates(self, query: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Rows worth scoring for this query, and their scores."""
        assert self._centroids is not None and self._offsets is not None
        lists = len(self._centroids)
        probes = max(1, -(-lists // PROBE_SHARE))
        probed = np.argpartition(-(self._centroids @ query), probes - 1)[:probes]
        spans = [(int(self._offsets[c]), int(self._offsets[c + 1])) for c in np.sort(probed)]
        spans.append((int(self._offsets[lists]), self._sorted))  # the outliers
        spans.append((self._sorted, self._count))  # the tail
        rows = [np.arange(start, end) for start, end in spans if end > start]
        scores = [self._matrix[start:end] @ query for start, end in spans if end > start]
        if self._changed:
            changed = np.fromiter(self._changed, dtype=np.int64, count=len(self._changed))
            wanted = np.ones(lists + 1, dtype=bool)
            wanted[probed] = False  # already scored in its old cluster's slice
            wanted[lists] = False  # or among the outliers
            changed = changed[wanted[self._lists[changed]]]
            rows.append(changed)
            scores.append(self._matrix[changed] @ query)
        if not rows:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        return np.concatenate(rows), np.concatenate(scores)

    def nearest(self, query: np.ndarray, limit: int) -> list[tuple[UUID, int | None, float]]:
        """The `limit` stored vectors nearest to `query`: (proposal id, outcome id, cosine)."""
        with self._lock:
            if not self._count:
                return []
            if self._offsets is None:
                scores = self._matrix[: self._count] @ query
                rows = None
            else:
                rows, scores = self._candidates(query)
            take = min(limit, len(scores))
            if not take:
                return []
            top = np.argpartition(-scores, take - 1)[:take]
            top = top[np.argsort(-scores[top])]
            found = top if rows is None else rows[top]
            return [
                (self._proposal_ids[i], self._outcome_ids[i], float(scores[j]))
                for i, j in zip(found.tolist(), top.tolist(), strict=True)
            ]

    def cosine(self, query: np.ndarray, proposal_ids: set[UUID]) -> dict[UUID, float]:
        """Cosines of these proposals' own vectors (not their lessons')."""
        with self._lock:
            found = [(pk, self._own_row[pk]) for pk in proposal_ids if pk in self._own_row]
            if not found:
                return {}
            scores = self._matrix[[row for _, row in found]] @ query
            return {pk: float(score) for (pk, _), score in zip(found, scores, strict=True)}


@dataclass(frozen=True)
class _Carried:
    """What a full reload keeps of the inverted file: each unchanged row's cluster."""

    row_of: dict[int, int]
    stamps: dict[int, dt.datetime]
    lists: np.ndarray
    sorted: int
    changed: set[int]

    def lists_for(self, pks: Sequence[int], stamps: dict[int, dt.datetime]) -> np.ndarray:
        """The cluster of each of these rows, or -1 where it is new or changed."""
        lists = np.full(len(pks), -1, dtype=np.int32)
        old_rows = np.full(len(pks), -1, dtype=np.int64)
        for row, pk in enumerate(pks):
            old = self.row_of.get(pk)
            if (
                old is not None
                and old < self.sorted
                and old not in self.changed
                and self.stamps.get(pk) == stamps[pk]
            ):
                old_rows[row] = old
        kept = old_rows >= 0
        lists[kept] = self.lists[old_rows[kept]]
        return lists


INDEX = VectorIndex()


def similar_to_proposal(user: User, proposal: Proposal, limit: int = 5) -> list[Match]:
    """What looks like this proposal (draft or not), among what `user` may see."""
    return similar_to_text(
        user,
        title=proposal.title,
        summary=proposal.summary,
        problem=proposal.problem,
        solution=proposal.proposed_solution,
        exclude=proposal.pk,
        limit=limit,
    )


def similar_to_text(
    user: User | AnonymousUser,
    *,
    title: str,
    summary: str = "",
    problem: str = "",
    solution: str = "",
    exclude: UUID | None = None,
    among: Collection[UUID] | None = None,
    limit: int = 5,
) -> list[Match]:
    """Proposals and lessons like this text that `user` may see, most alike first.

    `among` (a few hundred ids at most) compares with those proposals only, every
    one of them a candidate: the relevance benchmark ranks its fixture this way
    inside a database seeded with thousands of near-copies.
    """
    text = embeddings.proposal_text(title, summary, problem, solution)
    if not text:
        return []
    query = embeddings.embed([text])[0]
    INDEX.sync()
    if among is None:
        nearest = INDEX.nearest(query, CANDIDATES)
    else:
        nearest = [(pk, None, score) for pk, score in INDEX.cosine(query, set(among)).items()]
    lexical = _lexical(user, title, exclude)
    if among is not None:
        lexical = {pk: rank for pk, rank in lexical.items() if pk in among}
    best_lexical = max(lexical.values(), default=0.0) or 1.0

    cosines: dict[tuple[UUID, int | None], float] = {
        (proposal_id, outcome_id): score for proposal_id, outcome_id, score in nearest
    }
    missing = {pk for pk in lexical if (pk, None) not in cosines}
    for pk, score in INDEX.cosine(query, missing).items():
        cosines[(pk, None)] = score

    def score_of(proposal_id: UUID, outcome_id: int | None) -> float:
        words = lexical.get(proposal_id, 0.0) / best_lexical
        return cosines.get((proposal_id, outcome_id), 0.0) + LEXICAL_WEIGHT * words

    proposal_ids = {pk for pk, outcome_id in cosines if outcome_id is None} | set(lexical)
    proposal_ids.discard(exclude)  # type: ignore[arg-type]
    outcome_ids = {outcome_id for _, outcome_id in cosines if outcome_id is not None}

    matches: dict[str, Match] = {}
    visible = (
        selectors.proposals_visible_to(user)
        .filter(pk__in=proposal_ids or [UUID(int=0)])  # asked even when none is near
        .exclude(status__in=HIDDEN_STATUSES)
        .select_related("department")
        .only("pk", "reference", "title", "status", "department")
    )
    for proposal in visible:
        _keep(matches, _match("proposal", proposal, score_of(proposal.pk, None)))
    lessons = (
        selectors.published_outcomes_visible_to(user)
        # Asked even when no lesson is near (no id is 0), so a page's query count
        # does not depend on what the vectors happen to hold.
        .filter(pk__in=outcome_ids or [0])
        .exclude(Q(experiment__proposal_id=exclude) if exclude else Q(pk__in=[]))
        .select_related("experiment__proposal__department")
        .only(
            "pk",
            "result",
            "experiment__proposal__id",
            "experiment__proposal__reference",
            "experiment__proposal__title",
            "experiment__proposal__status",
            "experiment__proposal__department",
        )
    )
    for outcome in lessons:
        proposal = outcome.experiment.proposal
        score = score_of(proposal.pk, outcome.pk)
        _keep(
            matches,
            _match(
                "lesson",
                proposal,
                score,
                result=outcome.result,
                result_label=outcome.get_result_display(),
            ),
        )
    ranked = sorted(matches.values(), key=lambda match: -match.score)
    return [match for match in ranked if match.score >= MIN_SCORE][:limit]


def _match(kind: str, proposal: Proposal, score: float, **lesson: str) -> Match:
    return Match(
        kind=kind,
        reference=proposal.reference,
        title=proposal.title,
        department=proposal.department,
        status=proposal.status,
        status_label=proposal.get_status_display(),
        score=round(score, 4),
        **lesson,
    )


def _keep(matches: dict[str, Match], match: Match) -> None:
    # One entry per proposal, at the better of its scores: its lesson if it has one
    # (what government learned is the more useful thing to be shown).
    current = matches.get(match.reference)
    if current is None:
        matches[match.reference] = match
        return
    if (match.kind == "lesson") != (current.kind == "lesson"):
        chosen = match if match.kind == "lesson" else current
    else:
        chosen = match if match.score > current.score else current
    matches[match.reference] = replace(chosen, score=max(match.score, current.score))


def _lexical(user: User | AnonymousUser, title: str, exclude: UUID | None) -> dict[UUID, float]:
    """Visible proposals with every distinctive word of the draft's title, by rank.

    All the title's words, not any: an OR of a draft's words matches a large share
    of a big database, and ranking them all cost 0.3 s at 100,000 proposals, while
    ts_rank (no IDF) then boosted proposals for sharing a common word ("hospital").
    Meaning is the embedding's job; this part makes sure the obvious duplicate, the
    proposal with the same title words, ranks high.
    """
    words = selectors.distinct_words(title, limit=8)
    if not words:
        return {}
    base = (
        selectors.proposals_visible_to(user)
        .exclude(status__in=HIDDEN_STATUSES)
        .exclude(Q(pk=exclude) if exclude else Q(pk__in=[]))
    )
    if settings.IS_POSTGRES:
        query = SearchQuery(" ".join(words), search_type="plain", config="english")
        # Ranked among at most LEXICAL_SCAN matches, so a title of common words costs
        # the same as a rare one.
        matched = base.filter(search_vector=query).values("pk")[:LEXICAL_SCAN]
        rows = (
            Proposal.objects.filter(pk__in=Subquery(matched))
            .annotate(rank=SearchRank(F("search_vector"), query))
            .order_by("-rank")
            .values_list("pk", "rank")[:LEXICAL_CANDIDATES]
        )
        return {pk: float(rank) for pk, rank in rows}
    # SQLite (the embedded default, small): the service's own search, FTS5 with bm25.
    found = selectors.search_proposals(base, " ".join(words))[:LEXICAL_CANDIDATES]
    # search_proposals annotates each row with its rank (higher is better).
    return {p.pk: max(float(getattr(p, "search_rank", 0.0)), 0.0) for p in found.only("pk")}
