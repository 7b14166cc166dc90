"""The pages of issue 4: triage, assessment, decisions, experiments, lessons,
the portfolio and department settings."""

from django.urls import path

# The reference converter registered by proposals/urls.py: an address that cannot be a
# reference (a NUL byte, say, which PostgreSQL refuses) is a 404 before any query.
import proposals.urls  # noqa: F401
from proposals.views import department, experiments, lessons, portfolio, review

app_name = "review"

urlpatterns = [
    path("review/", review.dashboard, name="dashboard"),
    path("review/panel/", review.panel_sheet, name="panel"),
    path("proposals/<ref:reference>/triage/", review.triage, name="triage"),
    path("proposals/<ref:reference>/assess/", review.assess, name="assess"),
    path("proposals/<ref:reference>/decide/", review.decide, name="decide"),
    path("proposals/<ref:reference>/merge/", review.merge, name="merge"),
    path("proposals/<ref:reference>/close/", review.close, name="close"),
    path("proposals/<ref:reference>/feedback/", review.release_feedback, name="feedback"),
    path(
        "proposals/<ref:reference>/experiments/new/",
        experiments.experiment_plan,
        name="experiment_plan",
    ),
    path("experiments/", experiments.experiment_list, name="experiments"),
    path("experiments/<int:pk>/", experiments.experiment_detail, name="experiment"),
    path("experiments/<int:pk>/start/", experiments.experiment_start, name="experiment_start"),
    path("experiments/<int:pk>/stop/", experiments.experiment_stop, name="experiment_stop"),
    path("experiments/<int:pk>/outcome/", experiments.outcome_record, name="outcome_record"),
    path("experiments/<int:pk>/publish/", experiments.outcome_publish, name="outcome_publish"),
    path("lessons/", lessons.lesson_list, name="lessons"),
    path("lessons/<int:pk>/", lessons.lesson_detail, name="lesson"),
    path("lessons/<int:pk>/adopt/", lessons.lesson_adopt, name="lesson_adopt"),
    path("portfolio/", portfolio.portfolio, name="portfolio"),
    path("portfolio/charts/<slug:name>.svg", portfolio.chart, name="portfolio_chart"),
    path("department/settings/", department.department_settings, name="department_settings"),
    path("department/settings/people/<int:pk>/role/", department.set_role, name="set_role"),
    path("department/settings/move/", department.move_person, name="move_person"),
]
