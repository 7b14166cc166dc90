"""Similar proposals and lessons from across government: meaning and words together.

One implementation behind every door (proposing, the proposal page's "Related",
triage, and the API's `similar/` endpoints):

1. the draft's text is embedded here and now (about a millisecond), and compared
   with every stored vector by an exact dot product over a matrix each process
   keeps in memory (`VectorIndex`, synced from `SimilarityVector` by the rows
   changed since it last looked: one indexed query a call);
2. the same draft's distinctive words are looked up in the full-text index, so a
   proposal with the same rare words ranks high even when its wording is
   otherwise different;
3. the candidates of both go through the one visibility rule (`selectors`), in
   one query each for proposals and lessons, and are ranked by
   cosine + LEXICAL_WEIGHT × (lexical rank / best lexical rank).

Exact search costs about 5 ms at 100,000 proposals (256 float32 columns, 100 MB
a process); an approximate index (usearch, hnswlib) would be the next step past
a few hundred thousand. README "Similar proposals" has the measurements.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any
from uuid import UUID

import numpy as np
from django.conf import settings
from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db.models import F, Q

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
# pairs score under 0.24 (99% under 0.36), and a shared rare word adds up to 0.2.
MIN_SCORE = 0.3
# Vectors considered before the visibility rule; what a viewer may see among the
# nearest few hundred is enough for a top 5.
CANDIDATES = 200
LEXICAL_CANDIDATES = 20
# A process re-reads every vector this often (deleted rows, and any row whose
# transaction committed after a later one was read, are caught then); in between
# it fetches rows stamped since its last look, less SYNC_OVERLAP.
FULL_RELOAD_SECONDS = 600
SYNC_OVERLAP = dt.timedelta(minutes=5)
HIDDEN_STATUSES = (Status.DRAFT, Status.WITHDRAWN, Status.MERGED)


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
    """Every stored vector as one matrix, kept in step with the database."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._clear()

    def _clear(self) -> None:
        self._matrix = np.zeros((0, embeddings.DIMENSIONS), dtype=np.float32)
        self._count = 0
        self._row_of: dict[int, int] = {}
        self._proposal_ids: list[UUID] = []
        self._outcome_ids: list[int | None] = []
        self._synced_until: dt.datetime | None = None
        self._loaded_at = 0.0

    def reset(self) -> None:
        """Forget everything; the next call reloads every vector."""
        with self._lock:
            self._clear()

    def __len__(self) -> int:
        return self._count

    def sync(self) -> None:
        with self._lock:
            if time.monotonic() - self._loaded_at > FULL_RELOAD_SECONDS:
                self._clear()
                self._loaded_at = time.monotonic()
            rows = SimilarityVector.objects.order_by("updated_at")
            if self._synced_until is not None:
                rows = rows.filter(updated_at__gt=self._synced_until - SYNC_OVERLAP)
            fetched = list(
                rows.values_list("pk", "proposal_id", "outcome_id", "vector", "updated_at")
            )
            if fetched:
                self._add(fetched)
                self._synced_until = max(self._synced_until or fetched[-1][4], fetched[-1][4])

    def _add(self, rows: Sequence[tuple[int, UUID, int | None, Any, dt.datetime]]) -> None:
        needed = self._count + sum(1 for row in rows if row[0] not in self._row_of)
        if needed > len(self._matrix):
            size = (max(needed, 2 * len(self._matrix), 1024), embeddings.DIMENSIONS)
            grown = np.zeros(size, dtype=np.float32)
            grown[: self._count] = self._matrix[: self._count]
            self._matrix = grown
        for pk, proposal_id, outcome_id, vector, _ in rows:
            row = self._row_of.get(pk)
            if row is None:
                row = self._count
                self._count += 1
                self._row_of[pk] = row
                self._proposal_ids.append(proposal_id)
                self._outcome_ids.append(outcome_id)
            else:
                self._proposal_ids[row] = proposal_id
                self._outcome_ids[row] = outcome_id
            self._matrix[row] = embeddings.from_bytes(bytes(vector))

    def nearest(self, query: np.ndarray, limit: int) -> list[tuple[UUID, int | None, float]]:
        """The `limit` stored vectors nearest to `query`: (proposal id, outcome id, cosine)."""
        with self._lock:
            if not self._count:
                return []
            scores = self._matrix[: self._count] @ query
            take = min(limit, self._count)
            top = np.argpartition(-scores, take - 1)[:take]
            return [
                (self._proposal_ids[i], self._outcome_ids[i], float(scores[i]))
                for i in top[np.argsort(-scores[top])]
            ]

    def cosine(self, query: np.ndarray, proposal_ids: set[UUID]) -> dict[UUID, float]:
        """Cosines of these proposals' own vectors (not their lessons')."""
        with self._lock:
            rows = [
                i
                for i in range(self._count)
                if self._outcome_ids[i] is None and self._proposal_ids[i] in proposal_ids
            ]
            if not rows:
                return {}
            scores = self._matrix[rows] @ query
            return {self._proposal_ids[i]: float(s) for i, s in zip(rows, scores, strict=True)}


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
    limit: int = 5,
) -> list[Match]:
    """Proposals and lessons like this text that `user` may see, most alike first."""
    text = embeddings.proposal_text(title, summary, problem, solution)
    if not text:
        return []
    query = embeddings.embed([text])[0]
    INDEX.sync()
    nearest = INDEX.nearest(query, CANDIDATES)
    lexical = _lexical(user, title, summary, problem, exclude)
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
        .filter(pk__in=proposal_ids)
        .exclude(status__in=HIDDEN_STATUSES)
        .select_related("department")
        .only("pk", "reference", "title", "status", "department")
    )
    for proposal in visible:
        _keep(matches, _match("proposal", proposal, score_of(proposal.pk, None)))
    lessons = (
        selectors.published_outcomes_visible_to(user)
        .filter(pk__in=outcome_ids)
        .exclude(Q(experiment__proposal_id=exclude) if exclude else Q(pk__in=[]))
        .select_related("experiment__proposal__department")
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


def _lexical(
    user: User | AnonymousUser, title: str, summary: str, problem: str, exclude: UUID | None
) -> dict[UUID, float]:
    """Visible proposals sharing the text's distinctive words, with their lexical rank."""
    words = selectors.distinct_words(title, summary, problem)
    if not words:
        return {}
    base = (
        selectors.proposals_visible_to(user)
        .exclude(status__in=HIDDEN_STATUSES)
        .exclude(Q(pk=exclude) if exclude else Q(pk__in=[]))
    )
    if settings.IS_POSTGRES:
        query = SearchQuery(" or ".join(words), search_type="websearch", config="english")
        rows = (
            base.filter(search_vector=query)
            .annotate(rank=SearchRank(F("search_vector"), query))
            .order_by("-rank")
            .values_list("pk", "rank")[:LEXICAL_CANDIDATES]
        )
        return {pk: float(rank) for pk, rank in rows}
    # SQLite: title words, scored by how many of the draft's title words they share.
    title_words = selectors.distinct_words(title, limit=8)
    if not title_words:
        return {}
    match = Q()
    for word in title_words:
        match |= Q(title__icontains=word)
    found = base.filter(match).order_by("-updated_at").values_list("pk", "title")
    return {
        pk: sum(word in other.lower() for word in title_words) / len(title_words)
        for pk, other in found[:LEXICAL_CANDIDATES]
    }
