"""Experiments of approved proposals, and their outcomes."""

from django.urls import path

from proposals.urls import converters  # noqa: F401 - registers the `ref` converter
from proposals.views import experiments

app_name = "experiments"

urlpatterns = [
    path("proposals/<ref:reference>/experiments/new/", experiments.experiment_plan, name="plan"),
    path("experiments/", experiments.experiment_list, name="list"),
    path("experiments/<int:pk>/", experiments.experiment_detail, name="detail"),
    path("experiments/<int:pk>/start/", experiments.experiment_start, name="start"),
    path("experiments/<int:pk>/evaluation/", experiments.evaluation_plan, name="evaluation"),
    path(
        "experiments/<int:pk>/benefits/<int:review_id>/",
        experiments.benefit_review,
        name="benefit_review",
    ),
    path("experiments/<int:pk>/stop/", experiments.experiment_stop, name="stop"),
    path("experiments/<int:pk>/outcome/", experiments.outcome_record, name="outcome_record"),
    path("experiments/<int:pk>/publish/", experiments.outcome_publish, name="outcome_publish"),
]
