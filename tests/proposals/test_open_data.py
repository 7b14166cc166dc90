"""Published lessons as an open dataset: /data/catalog.json (DCAT), /data/lessons.csv and
its Frictionless Table Schema, rebuilt by beat (proposals/opendata.py, api/open_data.py)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable

import pytest
from django.conf import settings as django_settings
from django.core.files.storage import default_storage

from proposals import opendata, tasks
from proposals.api.open_data import OGL_V3
from proposals.enums import Visibility
from proposals.models import Outcome, Proposal
from proposals.selectors import published_outcomes_visible_to
from tests.proposals import review_world as rw

pytestmark = pytest.mark.django_db


@pytest.fixture
def lessons(settings, tmp_path, alice, rita, lena):
    """Three outcomes: published on shared work, unpublished, published on department-only work."""
    settings.MEDIA_ROOT = str(tmp_path)
    shared = rw.with_outcome(rw.planned(rw.approved(alice, rita, lena, title="Shared"), lena), lena)
    Outcome.objects.filter(pk=shared.pk).update(lessons="=HYPERLINK(shared-lesson)")
    hidden = rw.with_outcome(
        rw.planned(rw.approved(alice, rita, lena, title="Unpublished"), lena), lena, publish=False
    )
    private = rw.approved(alice, rita, lena, title="Private")
    Proposal.objects.filter(pk=private.pk).update(visibility=Visibility.DEPARTMENT)
    department_only = rw.with_outcome(rw.planned(private, lena), lena)
    return {"shared": shared, "hidden": hidden, "department_only": department_only}


def _csv(client) -> list[dict[str, str]]:
    response = client.get("/data/lessons.csv")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


def test_the_csv_holds_what_the_library_shows_an_analyst(client, lessons, ana):
    opendata.build()
    rows = _csv(client)  # not signed in: open data
    shown = {row["reference"] for row in rows}
    analyst_sees = set(
        published_outcomes_visible_to(ana).values_list("experiment__proposal__reference", flat=True)
    )
    assert shown == analyst_sees == {lessons["shared"].experiment.proposal.reference}
    (row,) = rows
    assert row["lessons"] == "'=HYPERLINK(shared-lesson)"  # the reports' formula guard
    assert row["result"] == "not_met"
    assert row["url"].endswith(f"/proposals/{row['reference']}/")


def test_the_csv_keeps_to_its_table_schema(client, lessons):
    opendata.build()
    schema = client.get("/data/lessons.schema.json").json()
    rows = _csv(client)
    names = [f["name"] for f in schema["fields"]]
    assert names == [column for column, _ in opendata.LESSON_COLUMNS] == list(rows[0])
    parse: dict[str, Callable[[str], object]] = {
        "date": dt.date.fromisoformat,
        "datetime": dt.datetime.fromisoformat,
        "integer": int,
        "number": float,
        "string": str,
    }
    for row in rows:
        for spec in schema["fields"]:
            value = row[spec["name"]]
            assert spec["description"], spec
            if value == "":
                assert not spec["constraints"]["required"], spec["name"]
                continue
            parse[spec["type"]](value)
            if "enum" in spec["constraints"]:
                assert value in spec["constraints"]["enum"], (spec["name"], value)


def test_the_catalogue_has_data_gov_uk_mandatory_fields(client, lessons):
    response = client.get("/data/catalog.json")
    assert response.status_code == 200
    catalogue = response.json()
    (dataset,) = catalogue["dataset"]
    for name in ("title", "description", "identifier", "license", "issued", "modified"):
        assert dataset[name], name
    assert dataset["license"] == OGL_V3
    shared = Outcome.objects.get(pk=lessons["shared"].pk)
    assert dt.datetime.fromisoformat(dataset["issued"]) == shared.published_at
    assert dt.datetime.fromisoformat(dataset["modified"]) >= shared.updated_at
    (distribution,) = dataset["distribution"]
    assert distribution["downloadURL"] == f"{django_settings.SITE_URL}/data/lessons.csv"
    assert distribution["mediaType"] == "text/csv"
    assert distribution["describedBy"].endswith("/data/lessons.schema.json")


def test_beat_rebuilds_it_and_the_old_file_goes(client, lessons, lena):
    schedule = django_settings.CELERY_BEAT_SCHEDULE["build-open-data"]
    assert schedule["task"] == tasks.build_open_data.name
    assert tasks.build_open_data() == 1
    first = opendata.current()
    assert first is not None
    outcome = Outcome.objects.get(pk=lessons["hidden"].pk)
    Outcome.objects.filter(pk=outcome.pk).update(published=True, published_at=outcome.created_at)
    assert tasks.build_open_data() == 2
    second = opendata.current()
    assert second is not None and second["file"] != first["file"]
    assert not default_storage.exists(first["file"])
    assert len(_csv(client)) == 2


def test_before_the_first_build_a_request_builds_it(client, lessons):
    assert opendata.current() is None
    assert len(_csv(client)) == 1
    assert opendata.current() is not None


def test_the_open_data_addresses_read_no_rows_once_built(
    client, lessons, django_assert_num_queries
):
    """The catalogue and the file are served from storage (the manifest), not the database."""
    opendata.build()
    with django_assert_num_queries(0):
        assert client.get("/data/catalog.json").status_code == 200
        assert len(_csv(client)) == 1
        assert client.get("/data/lessons.schema.json").status_code == 200
