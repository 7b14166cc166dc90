"""/data/: the open dataset of published lessons, its DCAT catalogue and table schema."""

from django.urls import path

from proposals.api import open_data

app_name = "data"

urlpatterns = [
    path("data/catalog.json", open_data.catalog, name="catalog"),
    path("data/lessons.csv", open_data.lessons, name="lessons"),
    path("data/lessons.schema.json", open_data.lessons_schema, name="lessons_schema"),
]
