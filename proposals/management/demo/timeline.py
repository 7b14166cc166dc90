"""When things happened to a demo proposal, always in the lifecycle's order.

created < submitted < triaged < decided < experiment start < end < outcome
published ≤ now. Only a running experiment's planned end may lie in the future.
The last step a proposal reached is placed some time before now, and the earlier
steps are laid out backwards from it, so nothing is ever in the future.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, fields

from proposals.enums import Status

DAY = dt.timedelta(days=1)


@dataclass
class Timeline:
    created: dt.datetime
    submitted: dt.datetime | None = None
    triaged: dt.datetime | None = None  # accepted, rejected, merged or sent back at triage
    decided: dt.datetime | None = None  # approved or rejected after review
    started: dt.datetime | None = None  # the experiment
    ends: dt.datetime | None = None  # the experiment's (planned) end
    published: dt.datetime | None = None  # its outcome
    closed: dt.datetime | None = None  # withdrawn, or completed

    @property
    def last(self) -> dt.datetime:
        """The latest step that has happened (a planned end is not one)."""
        steps = (self.submitted, self.triaged, self.decided, self.started, self.published)
        return max([self.created, *(t for t in (*steps, self.closed) if t is not None)])

    def fit_after(self, earliest: dt.datetime, now: dt.datetime) -> None:
        """Squeeze the whole history in between `earliest` and now, keeping its order."""
        if self.created > earliest:
            return
        factor = (now - earliest) * 0.9 / (now - self.created)
        for f in fields(self):
            when = getattr(self, f.name)
            if when is not None:
                setattr(self, f.name, now - (now - when) * factor)


def _days(rng: random.Random, low: float, high: float) -> dt.timedelta:
    return dt.timedelta(days=rng.uniform(low, high))


def timeline(
    status: Status,
    rng: random.Random,
    now: dt.datetime,
    *,
    rejected_at_triage: bool = False,
    triage_overdue: bool | None = None,
    experiment_overdue: bool = False,
    triage_target_days: int = 10,
) -> Timeline:
    """A plausible history for a proposal now in `status`.

    `triage_overdue` places a submitted proposal well past (True) or well within
    (False) its department's triage target (in working days, about 7 in 5
    calendar days, with room for bank holidays); `experiment_overdue` lets a running
    experiment's end pass without an outcome. (`Timeline.fit_after` then moves
    it after something it must follow, such as the lesson an adoption copies.)
    """
    if status == Status.DRAFT:
        return Timeline(created=now - _days(rng, 0.2, 90))
    if status == Status.SUBMITTED:
        if triage_overdue is None:
            age = _days(rng, 0.1, 35)
        else:
            calendar = triage_target_days * 7 / 5
            age = (
                _days(rng, calendar + 8, calendar + 30)
                if triage_overdue
                else _days(rng, 0.1, max(0.5, calendar - 5))
            )
        submitted = now - age
        return Timeline(created=submitted - _days(rng, 0.2, 12), submitted=submitted)
    if status == Status.WITHDRAWN:
        withdrawn = now - _days(rng, 1, 400)
        submitted = withdrawn - _days(rng, 1, 30)
        return Timeline(
            created=submitted - _days(rng, 0.5, 14), submitted=submitted, closed=withdrawn
        )
    if status in {Status.MORE_INFO, Status.IN_REVIEW, Status.MERGED}:
        triaged = now - (_days(rng, 1, 300) if status == Status.MERGED else _days(rng, 1, 45))
        submitted = triaged - _days(rng, 0.5, 16)
        return Timeline(
            created=submitted - _days(rng, 0.5, 14), submitted=submitted, triaged=triaged
        )
    if status == Status.REJECTED and rejected_at_triage:
        triaged = now - _days(rng, 1, 500)
        submitted = triaged - _days(rng, 0.5, 12)
        return Timeline(
            created=submitted - _days(rng, 0.5, 14),
            submitted=submitted,
            triaged=triaged,
            decided=triaged,
        )
    # Reviewed: approved, rejected after review, experimenting, completed.
    started: dt.datetime | None = None
    ends: dt.datetime | None = None
    published: dt.datetime | None = None
    closed: dt.datetime | None = None
    if status == Status.EXPERIMENTING:
        length = _days(rng, 42, 180)
        if experiment_overdue:
            started = now - length - _days(rng, 3, 60)
        else:
            started = now - length * rng.uniform(0.05, 0.9)
        ends = started + length
        decided = started - _days(rng, 14, 45)
    elif status == Status.COMPLETED:
        published = now - _days(rng, 1, 450)
        closed = published + (now - published) * rng.uniform(0, 0.3)
        ends = published - _days(rng, 3, 40)
        started = ends - _days(rng, 42, 180)
        decided = started - _days(rng, 14, 45)
    elif status == Status.APPROVED:
        decided = now - _days(rng, 1, 120)
    else:  # rejected after review
        decided = now - _days(rng, 1, 500)
    triaged = decided - _days(rng, 5, 40)
    submitted = triaged - _days(rng, 0.5, 16)
    return Timeline(
        created=submitted - _days(rng, 0.5, 14),
        submitted=submitted,
        triaged=triaged,
        decided=decided,
        started=started,
        ends=ends,
        published=published,
        closed=closed,
    )
