"""The portfolio dashboard and its chart images."""

from django.urls import path

from proposals.views import portfolio

app_name = "portfolio"

urlpatterns = [
    path("portfolio/", portfolio.portfolio, name="dashboard"),
    path("portfolio/charts/<slug:name>.svg", portfolio.chart, name="chart"),
]
