"""The portfolio dashboard and its charts.

Charts are SVG drawn on the server and served by `chart` as images, so they
need no JavaScript and no CDN, and carry no inline <style> (the CSP forbids
it): only presentation attributes. Each has a GOV.UK table of the same data
on the page, which is what screen readers use.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.views.decorators.cache import never_cache

from accounts.models import Role, User
from proposals import permissions as perms
from proposals import portfolio as figures
from proposals.forms.portfolio import PortfolioFilterForm
from proposals.views.review import current_user

CHARTS = {
    "funnel": "Proposals at each stage",
    "departments": "Proposals by department",
    "themes": "Proposals by theme",
    "results": "Experiment outcomes by result",
    "benefit": "Estimated and realised benefit (£)",
    "benefit_departments": "Estimated and realised benefit by department (£ a year)",
    "benefit_themes": "Estimated and realised benefit by theme (£ a year)",
    "benefit_types": "Estimated and realised benefit by Magenta Book evaluation type (£ a year)",
    "adoptions": "Proposals adopted from other departments",
}

_BENEFIT_ROWS = {
    "benefit_departments": "benefits_by_department",
    "benefit_themes": "benefits_by_theme",
    "benefit_types": "benefits_by_evaluation_type",
}


def _portfolio_for(request: HttpRequest) -> tuple[figures.Portfolio, PortfolioFilterForm]:
    user = current_user(request)
    if not perms.can_see_portfolio(user):
        raise PermissionDenied("The portfolio is for portfolio leads and analysts")
    form = PortfolioFilterForm(request.GET or None)
    if user.role != Role.ANALYST:
        # Leads see their own department only; the choice is not offered.
        del form.fields["department"]
    filters = figures.PortfolioFilters()
    if form.is_bound and form.is_valid():
        filters = figures.PortfolioFilters(
            department=form.cleaned_data.get("department"),
            period_from=form.cleaned_data["period_from"],
            period_to=form.cleaned_data["period_to"],
        )
    return cached_portfolio(user, filters), form


def cached_portfolio(user: User, filters: figures.PortfolioFilters) -> figures.Portfolio:
    """The portfolio: the scope's snapshot (`portfolio.current`, one query) when there
    is one; otherwise computed now and shared for PORTFOLIO_CACHE_SECONDS by everyone
    with the same scope.

    The page and each of its chart images ask for the same numbers; computing
    them once serves all of them. The key is the scope the visibility rule
    gives (every analyst sees the same government-visible proposals; a lead
    sees their department) and the filters, never the person.
    """
    stored = figures.snapshot(user, filters)
    if stored is not None:
        return stored
    seconds = settings.PORTFOLIO_CACHE_SECONDS
    if not seconds:
        return figures.portfolio(user, filters)
    if user.role == Role.ANALYST:
        department = filters.department.pk if filters.department else ""
        scope = f"government:{department}"
    else:
        scope = f"department:{user.department_id}"
    key = f"portfolio:v4:{scope}:{filters.period_from}:{filters.period_to}"
    data = cache.get(key)
    if data is None:
        data = figures.portfolio(user, filters)
        cache.set(key, data, seconds)
    return data


def chart_series(data: figures.Portfolio, name: str) -> list[tuple[str, int]]:
    if name == "funnel":
        return [(row["label"], row["count"]) for row in data.funnel]
    if name == "departments":
        return [(row["department__name"], row["total"]) for row in data.by_department]
    if name == "themes":
        return [(row["name"], row["total"]) for row in data.by_theme]
    if name == "results":
        return [(row["label"], row["count"]) for row in data.by_result]
    if name == "benefit":
        return [
            ("Estimated (approved proposals)", data.estimated_benefit_gbp),
            ("Realised (recorded outcomes)", data.realised_benefit_gbp),
        ]
    if name == "adoptions":
        return [
            ("Adopted from other departments", data.adopted),
            ("Met their target", data.adopted_met),
        ]
    if name in _BENEFIT_ROWS:
        # Two bars per group, estimated then realised, so they compare side by side.
        return [
            (f"{row['name']}: {part}", row[part])
            for row in getattr(data, _BENEFIT_ROWS[name])
            for part in ("estimated", "realised")
        ]
    raise Http404("No such chart")


@login_required
def portfolio(request: HttpRequest) -> HttpResponse:
    data, form = _portfolio_for(request)
    query = request.GET.urlencode()
    charts = [
        {
            "name": name,
            "title": title,
            "src": f"{request.path}charts/{name}.svg" + (f"?{query}" if query else ""),
            "rows": chart_series(data, name),
        }
        for name, title in CHARTS.items()
    ]
    return render(
        request,
        "portfolio/dashboard.html",
        {
            "data": data,
            "filter_form": form,
            "form": form,
            "charts": charts,
            "benefit_tables": [
                ("By department", data.benefits_by_department),
                ("By theme", data.benefits_by_theme),
                ("By Magenta Book evaluation type", data.benefits_by_evaluation_type),
            ],
        },
    )


BAR_HEIGHT = 28
LABEL_WIDTH = 260
BAR_AREA = 380


@login_required
@never_cache
def chart(request: HttpRequest, name: str) -> HttpResponse:
    if name not in CHARTS:
        raise Http404("No such chart")
    data, _ = _portfolio_for(request)
    series = chart_series(data, name)
    largest = max([value for _, value in series] + [1])
    bars: list[dict[str, Any]] = []
    for index, (label, value) in enumerate(series):
        bars.append(
            {
                "label": label if len(label) <= 38 else label[:37] + "…",
                "value": f"{value:,}",
                "y": 30 + index * (BAR_HEIGHT + 8),
                "text_y": 30 + index * (BAR_HEIGHT + 8) + 19,
                "width": max(1, round(BAR_AREA * value / largest)) if value else 0,
                "value_x": LABEL_WIDTH
                + 8
                + (round(BAR_AREA * value / largest) if value else 0)
                + 6,
            }
        )
    height = 30 + len(series) * (BAR_HEIGHT + 8) + 10
    svg = render_to_string(
        "portfolio/chart.svg",
        {
            "title": CHARTS[name],
            "bars": bars,
            "height": height,
            "width": LABEL_WIDTH + BAR_AREA + 90,
            "bar_x": LABEL_WIDTH + 8,
            "bar_height": BAR_HEIGHT,
        },
    )
    return HttpResponse(svg, content_type="image/svg+xml; charset=utf-8")
