"""Numbered GOV.UK pagination whose count stops at a cap, for lists that may
hold hundreds of thousands of rows (the lessons library, the experiments page).

Counting every row a viewer may see costs more than the page itself at a
million proposals; `SELECT COUNT(*) FROM (… LIMIT cap + 1)` stops reading once
it has enough, whatever the table's size. Past the cap the page says "more
than" and the pages go as far as the cap: a narrower search reaches the rest.
"""

from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.utils.functional import cached_property

# Shown as "more than 1,000": enough pages to browse, few enough to count quickly.
LIST_COUNT_CAP = 1_000


class CappedPaginator(Paginator):
    """A paginator whose count is at most `cap` + 1, of the same rows as the page
    (in its order, without the joined columns a count does not need), or of
    `count_source` when the page's own query is costlier to count than the
    rows it ranks (a search: its bare matches, without the ranking)."""

    def __init__(
        self,
        object_list: QuerySet[Any],
        per_page: int,
        *,
        cap: int | None = None,
        count_source: QuerySet[Any] | None = None,
    ) -> None:
        super().__init__(object_list, per_page)
        self.rows = object_list
        self.count_source = count_source
        self.cap = LIST_COUNT_CAP if cap is None else cap

    @cached_property
    def count(self) -> int:
        # A search counts from the candidates its first page is chosen from
        # (selectors.SearchResults): one walk of the matches for both.
        counted = getattr(self.rows, "capped_count", None)
        if counted is not None and (found := counted(self.cap)) is not None:
            return int(found)
        if self.count_source is not None:
            return self.count_source.order_by().values("pk")[: self.cap + 1].count()
        # The page's own order is kept: it is an index walk, so the count walks
        # the same index and stops at the cap. Without it the planner may hash
        # every candidate row before the LIMIT applies.
        return self.rows.values("pk")[: self.cap + 1].count()

    @property
    def capped(self) -> bool:
        """True when there are more rows than the count says (it is the cap + 1)."""
        return self.count > self.cap
