"""The data dictionary (/api/data-dictionary/, docs/data-dictionary.md): every field of
every API resource and every export column, with its meaning, type and allowed values,
generated from the code."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.conf import settings
from rest_framework import serializers

from proposals import reports
from proposals.api import dictionary
from proposals.api.serializers import ProposalOut
from proposals.enums import ExperimentStatus, RegistryStatus, Status


@pytest.fixture(scope="module")
def built():
    return dictionary.build()


def test_every_api_field_and_export_column_has_a_meaning(built):
    assert dictionary.undescribed(built) == []


def test_every_api_resource_and_every_export_is_in_it(built):
    ids = {section.id for section in built}
    schema = dictionary.api_schema()["components"]["schemas"]
    resources = {name for name, component in schema.items() if "properties" in component}
    assert resources <= ids
    for name in resources:
        fields = [entry.name for entry in dictionary.section(built, name).entries]
        assert fields == list(schema[name]["properties"]), name
    exports = {
        "export-proposals": [label for label, _ in reports.PROPOSAL_COLUMNS],
        "export-outcomes": [label for label, _ in reports.OUTCOME_COLUMNS],
        "export-evaluation_registry": list(reports.REGISTRY_COLUMNS),
    }
    for section_id, columns in exports.items():
        assert [e.name for e in dictionary.section(built, section_id).entries] == columns
    portfolio = [s for s in built if s.id.startswith("export-portfolio-")]
    assert [[e.name for e in s.entries] for s in portfolio] == list(
        reports.PORTFOLIO_COLUMNS.values()
    )


def test_a_new_api_field_without_a_meaning_is_caught(monkeypatch):
    monkeypatch.setitem(ProposalOut._declared_fields, "ghost_field", serializers.CharField())
    assert "ProposalOut.ghost_field" in dictionary.undescribed(dictionary.build())


def test_a_new_export_column_without_a_meaning_is_caught(monkeypatch):
    monkeypatch.setattr(reports, "PROPOSAL_COLUMNS", [*reports.PROPOSAL_COLUMNS, ("V", "version")])
    assert dictionary.undescribed(dictionary.build()) == ["export-proposals.V"]


def test_types_and_allowed_values_come_from_the_code(built):
    def entry(section_id, name):
        return next(e for e in dictionary.section(built, section_id).entries if e.name == name)

    status = entry("ProposalOut", "status")
    assert [v.value for v in status.allowed] == Status.values
    assert [v.label for v in status.allowed] == Status.labels
    assert entry("export-proposals", "Status").allowed == status.allowed
    assert [v.value for v in entry("export-outcomes", "Experiment status").allowed] == (
        ExperimentStatus.values
    )
    assert [v.value for v in entry("export-evaluation_registry", "status").allowed] == (
        RegistryStatus.values
    )
    assert entry("ProposalOut", "submitted_at").json_type == "datetime"
    assert entry("ProposalOut", "submitted_at").optional
    assert entry("ProposalOut", "estimated_benefit_gbp").type == "whole number"
    assert entry("ProposalDetailOut", "decision").refers_to == "DecisionOut"
    assert entry("export-outcomes", "Starts").json_type == "date"
    assert entry("export-outcomes", "Published").type == "yes or no"


def test_the_schema_carries_the_same_meanings(built):
    """The OpenAPI schema describes every property (help text, else the glossary)."""
    schema = dictionary.api_schema()["components"]["schemas"]
    missing = [
        f"{name}.{field}"
        for name, component in schema.items()
        for field, prop in component.get("properties", {}).items()
        if not prop.get("description")
    ]
    assert missing == []


def test_docs_file_is_generated_from_the_same_source(built):
    """docs/data-dictionary.md is the dictionary, not a second copy of the words."""
    text = (Path(settings.BASE_DIR) / "docs" / "data-dictionary.md").read_text(encoding="utf-8")
    assert text == dictionary.to_markdown(built), "run `python manage.py data_dictionary`"


# --- the page and the JSON -------------------------------------------------------------------


@pytest.mark.django_db
def test_the_page_lists_every_section_in_govuk_tables(client, django_assert_num_queries):
    dictionary.sections()  # built once per process, outside the count
    with django_assert_num_queries(0):
        response = client.get("/api/data-dictionary/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "govuk-header" in page  # the base template
    assert '<table class="govuk-table">' in page
    for section in dictionary.sections():
        assert f'id="{section.id}"' in page
    assert "Where it is in the workflow." in page
    # The words' `code` spans are <code>, and what is inside them is escaped.
    assert "<code>DFE-2026-0042</code>" in page
    assert "<code>&lt;proposal reference&gt;-E&lt;experiment id&gt;</code>" in page
    assert "<script>" not in page


@pytest.mark.django_db
def test_the_page_for_a_signed_in_user_runs_a_fixed_number_of_queries(
    client, alice, django_assert_num_queries
):
    """The session, the user and the base template's own (the same on every page)."""
    client.force_login(alice)
    client.get("/api/data-dictionary/")
    with django_assert_num_queries(5):
        assert client.get("/api/data-dictionary/").status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "accept"),
    [("/api/data-dictionary/?format=json", "*/*"), ("/api/data-dictionary/", "application/json")],
)
def test_json_by_format_or_accept(client, path, accept):
    response = client.get(path, HTTP_ACCEPT=accept)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body == json.loads(json.dumps(dictionary.as_json(dictionary.sections())))
    proposal = next(s for s in body["sections"] if s["id"] == "ProposalOut")
    status = next(f for f in proposal["fields"] if f["name"] == "status")
    assert status["allowed"][0] == {"value": "draft", "label": "Draft"}
    assert status["meaning"]


@pytest.mark.django_db
def test_a_browser_gets_the_page(client):
    response = client.get(
        "/api/data-dictionary/", HTTP_ACCEPT="text/html,application/xhtml+xml,*/*;q=0.8"
    )
    assert response["Content-Type"].startswith("text/html")
