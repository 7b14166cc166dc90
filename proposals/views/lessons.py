"""The lessons library: published outcomes across government, and adopting one."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from proposals import dashboards, services
from proposals import permissions as perms
from proposals.filters import LessonFilter
from proposals.models import Outcome
from proposals.selectors import published_outcomes_visible_to
from proposals.views._paging import CappedPaginator
from proposals.views.review import _proposal_url, current_user

PAGE_SIZE = 20


@login_required
def lesson_list(request: HttpRequest) -> HttpResponse:
    # A value that is not valid is left out of the search and named in the error summary.
    filters = LessonFilter(request.GET or None, queryset=Outcome.objects.none())
    queryset = dashboards.lessons(current_user(request), filters)
    paginator = CappedPaginator(queryset, PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    adopted = dashboards.adoption_counts(current_user(request), page.object_list)
    for outcome in page.object_list:
        # For the template: how many departments adopted it, as this viewer may see.
        outcome.adopted = adopted.get(outcome.pk, dashboards.Adopted())  # type: ignore[attr-defined]
    return render(
        request,
        "lessons/list.html",
        {
            "filter_form": filters.form,
            "page_obj": page,
            "count": paginator.count,
            "capped": paginator.capped,
            "cap": paginator.cap,
        },
        status=400 if filters.is_bound and filters.errors else 200,
    )


def _outcome_for(request: HttpRequest, pk: int) -> Outcome:
    outcome = (
        published_outcomes_visible_to(current_user(request))
        .select_related("experiment", "experiment__proposal", "experiment__proposal__department")
        .filter(pk=pk)
        .first()
    )
    if outcome is None:
        raise Http404("No published outcome with that number")
    return outcome


@login_required
def lesson_detail(request: HttpRequest, pk: int) -> HttpResponse:
    outcome = _outcome_for(request, pk)
    actuals = {a.metric_id: a.value for a in outcome.actuals.all()}
    metrics = [(m, actuals.get(m.pk)) for m in outcome.experiment.metrics.all()]
    return render(
        request,
        "lessons/detail.html",
        {
            "outcome": outcome,
            "experiment": outcome.experiment,
            "proposal": outcome.experiment.proposal,
            "metrics": metrics,
            "can_adopt": perms.can_adopt(current_user(request)),
            "adopted": dashboards.adoptions_of_lesson(current_user(request), outcome),
        },
    )


@login_required
@require_POST
def lesson_adopt(request: HttpRequest, pk: int) -> HttpResponse:
    outcome = _outcome_for(request, pk)
    if not perms.can_adopt(current_user(request)):
        raise PermissionDenied("Analysts read outcomes; they do not adopt them")
    draft = services.proposal_adopt(outcome=outcome, actor=current_user(request))
    messages.success(
        request,
        f"Draft {draft.reference} is in your department, crediting "
        f"{outcome.experiment.proposal.reference}",
    )
    url = _proposal_url(draft)
    if url == draft.get_absolute_url():
        return redirect(url)
    return redirect("lessons:detail", pk=pk)
