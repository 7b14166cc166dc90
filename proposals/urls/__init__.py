"""The domain's browser pages, mounted at the site's root: one URL module per
concept, each its own namespace (`review:triage`, `experiments:detail`…)."""

from django.urls import include, path

from proposals.urls import (
    account,
    challenges,
    data,
    departments,
    experiments,
    lessons,
    portfolio,
    proposals,
    reports,
    review,
)

urlpatterns = [
    path("", include(module))
    for module in (
        proposals,
        review,
        experiments,
        lessons,
        portfolio,
        departments,
        challenges,
        reports,
        account,
        data,
    )
]
