"""The weighted score: the one place that says how scores combine (SPEC §3).

Each assessment's weighted score is computed here once, when it is submitted,
and stored; the panel sheet's mean, spread and moderation flag are aggregates
of those stored scores in SQL (`dashboards.with_panel_scores`).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal

THREE_PLACES = Decimal("0.001")


def weighted_score(scores: Iterable[tuple[int, Decimal]]) -> Decimal:
    """Weights-normalised mean of (score, weight) pairs, to three places.

    >>> weighted_score([(5, Decimal(3)), (1, Decimal(1))])
    Decimal('4.000')
    """
    pairs = list(scores)
    total_weight = sum((weight for _, weight in pairs), Decimal(0))
    if not pairs or total_weight <= 0:
        raise ValueError("A weighted score needs at least one score with a positive weight")
    total = sum((Decimal(score) * weight for score, weight in pairs), Decimal(0))
    return (total / total_weight).quantize(THREE_PLACES, rounding=ROUND_HALF_UP)
