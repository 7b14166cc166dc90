"""Find proposals: a reference goes straight to its page; otherwise full-text search
with filters, sort and pagination, over what this user may see and nothing else."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from proposals import selectors
from proposals.filters import FindFilter
from proposals.models import Proposal
from proposals.views import _paging
from proposals.views._common import user_of
from proposals.views._paging import CappedPaginator

PAGE_SIZE = 20
# Counting every visible row of a million-row table on every page costs more than
# the page itself, so the count stops where every long list's does
# (views/_paging.LIST_COUNT_CAP: "more than 1,000", and a narrower search reaches
# the rest). Each row counted is a row of a wide table read: counting to 10,001
# read 23 MB and took 15-40 ms at 1,000,000 proposals, to 1,001 a tenth of it.
# A search's matches are counted to fewer, as many as its first window holds
# (selectors.SEARCH_WINDOW), from the window's own candidates.
SEARCH_COUNT_CAP = 200


def filtered(
    filters: FindFilter, *, sort: str = ""
) -> tuple[QuerySet[Proposal], QuerySet[Proposal]]:
    """The page's rows (annotated, sorted) and the same rows bare, for counting."""
    queryset = filters.qs
    text = (filters.form.cleaned_data.get("q") or "") if filters.is_bound else ""
    to_count = queryset
    # Without words to rank by, "recently updated" is the default: it walks the
    # (updated_at, id) index, so the first page of a million rows is cheap.
    sort = sort or ("relevance" if text.strip() else "updated")
    if sort == "newest":
        queryset = queryset.order_by("-created_at", "-pk")
    elif sort == "updated":
        queryset = queryset.order_by("-updated_at", "-pk")
    elif sort == "supported":
        # The trigger-kept column and its index: no count of every row's supports.
        queryset = queryset.order_by("-support_count", "-updated_at", "-pk")
    return to_count, queryset.select_related("department").only(
        "id",
        "reference",
        "title",
        "summary",
        "status",
        "visibility",
        "created_at",
        "updated_at",
        "support_count",
        "department__name",
        "department__acronym",
        "department__slug",
    )


@login_required
def find(request: HttpRequest) -> HttpResponse:
    user = user_of(request)
    filters = FindFilter(
        request.GET or None, queryset=selectors.proposals_visible_to(user), request=request
    )
    form = filters.form
    if filters.is_bound and not filters.is_valid():
        results: QuerySet[Proposal] = Proposal.objects.none()
        to_count = results
    else:
        data = form.cleaned_data if filters.is_bound else {}
        text = (data.get("q") or "").strip()
        if selectors.REFERENCE_TEXT.match(text):
            match = (
                selectors.proposals_visible_to(user)
                .filter(reference=text.upper())
                .only("reference")
                .first()
            )
            if match is not None:
                return redirect(match.get_absolute_url())
        to_count, results = filtered(filters, sort=data.get("sort") or "")
    searching = bool(
        filters.is_bound and (getattr(form, "cleaned_data", {}).get("q") or "").strip()
    )
    cap = SEARCH_COUNT_CAP if searching else _paging.LIST_COUNT_CAP
    paginator = CappedPaginator(results, PAGE_SIZE, count_source=to_count, cap=cap)
    page_obj = paginator.get_page(request.GET.get("page"))
    proposals = list(page_obj.object_list)
    cleaned = getattr(form, "cleaned_data", {})
    filters_applied = any(cleaned.get(name) for name in FindFilter.parameters)
    context = {
        "form": form,
        "page_obj": page_obj,
        "proposals": proposals,
        "count": paginator.count,
        "capped": paginator.capped,
        "cap": cap,
        "filters_applied": filters_applied,
    }
    return render(request, "proposals/find.html", context, status=200 if not form.errors else 400)
