"""The API's orjson renderer writes the bytes DRF's JSON renderer writes: for
tricky values one by one, and for real answers of the API."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from decimal import Decimal

import pytest
from django.utils.translation import gettext_lazy
from rest_framework.renderers import JSONRenderer as DRFRenderer

from proposals.api.renderers import JSONRenderer
from tests.factories import ProposalFactory

LONDON = dt.timezone(dt.timedelta(hours=1))
VALUES = [
    {"text": "plain", "unicode": "Ærø – “quotes” – 北京", "escapes": 'a"b\\c\n\t\x01'},
    {"separators": "line\u2028paragraph\u2029end"},
    {"aware": dt.datetime(2026, 12, 7, 10, 30, 5, 123456, tzinfo=dt.UTC)},
    {"other zone": dt.datetime(2026, 6, 1, 9, 0, tzinfo=LONDON), "naive": dt.datetime(2026, 1, 2)},
    {"date": dt.date(2026, 3, 4), "time": dt.time(12, 5, 7, 250)},
    {"money": Decimal("1234.50"), "uuid": uuid.UUID("12345678-1234-5678-1234-567812345678")},
    {"lazy": gettext_lazy("Lazy text"), "tuple": (1, "two"), "set": {3}},
    {"numbers": [0, -1, 2**53, 1.5, 0.1, 123.456], "bools": [True, False, None]},
    {"nested": {"list": [{"a": []}, {}], "empty": ""}},
    [],
    "a bare string",
]


@pytest.mark.parametrize("data", VALUES, ids=lambda value: str(value)[:30])
def test_the_same_bytes_as_drfs_renderer(data: object) -> None:
    assert JSONRenderer().render(data) == DRFRenderer().render(data)


def test_a_tiny_float_is_the_same_number_written_shorter() -> None:
    # json writes 1e-07, orjson 1e-7: the same number to every JSON reader.
    data = {"tiny": 1e-7, "huge": 1.5e300}
    ours, drf = JSONRenderer().render(data), DRFRenderer().render(data)
    assert json.loads(ours) == json.loads(drf)
    assert ours == b'{"tiny":1e-7,"huge":1.5e+300}'


def test_indented_json_is_drfs_own() -> None:
    data = {"a": [1, 2]}
    media = "application/json; indent=2"
    assert JSONRenderer().render(data, media) == DRFRenderer().render(data, media)
    assert b"\n  " in JSONRenderer().render(data, media)


def test_nothing_renders_as_no_body() -> None:
    assert JSONRenderer().render(None) == b""


def test_a_value_orjson_cannot_take_is_rendered_by_drf() -> None:
    data = {"big": 2**70, 1: "an integer key"}
    assert JSONRenderer().render(data) == DRFRenderer().render(data)


@pytest.mark.django_db
def test_an_api_answer_is_what_drfs_renderer_would_have_written(alice, client_for) -> None:
    ProposalFactory.create_batch(3, submitter=alice)
    response = client_for(alice).get("/api/v1/proposals/", {"page_size": 10})
    assert response.status_code == 200
    assert len(response.json()["results"]) == 3
    assert response.content == DRFRenderer().render(response.data)
