"""The OpenAPI document agrees with the URL list, and /api/docs/ renders it
with no CDN and nothing inline for the CSP to block."""

from __future__ import annotations

import re

import pytest
import yaml
from django.contrib.staticfiles import finders
from django.urls import URLPattern, URLResolver
from rest_framework.test import APIClient

from proposals.api import urls as api_urls

ERROR_CODES = {"400", "401", "403", "404", "405", "406", "409", "412", "413", "415", "429"}


def url_list_operations() -> set[tuple[str, str]]:
    """(OpenAPI path, method) for every /api/v1/ route Django would dispatch."""
    found: set[tuple[str, str]] = set()

    def walk(patterns, prefix: str) -> None:
        for pattern in patterns:
            regex = pattern.pattern.regex.pattern.lstrip("^").rstrip("$").replace("\\Z", "")
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, prefix + regex)
            elif isinstance(pattern, URLPattern) and hasattr(pattern.callback, "actions"):
                path = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", prefix + regex)
                # drf-spectacular names a `pk` path parameter `id` (SCHEMA_COERCE_PATH_PK).
                path = "/api/" + path.replace("\\", "").replace("{pk}", "{id}")
                for method in pattern.callback.actions:
                    if method != "head":
                        found.add((path, method))
            elif isinstance(pattern, URLPattern) and str(pattern.pattern).startswith("v1/"):
                # A plain APIView (the change feed): its handler methods.
                view = pattern.callback.view_class  # type: ignore[attr-defined]
                for method in ("get", "post", "put", "patch", "delete"):
                    if hasattr(view, method):
                        found.add(("/api/" + str(pattern.pattern), method))

    walk(api_urls.urlpatterns, "")
    return found


@pytest.fixture
def schema(db) -> dict:
    response = APIClient().get("/api/schema/")
    assert response.status_code == 200
    return yaml.safe_load(response.content)


def schema_operations(schema: dict) -> set[tuple[str, str]]:
    return {
        (path, method)
        for path, item in schema["paths"].items()
        for method in item
        if method in {"get", "post", "put", "patch", "delete"}
    }


def test_schema_and_url_list_describe_the_same_operations(schema) -> None:
    assert schema_operations(schema) == url_list_operations()
    assert (
        len(url_list_operations()) == 46
    )  # feed, criteria, evaluations, start, secrets, similar, follow


def test_every_operation_documents_its_errors_in_the_one_shape(schema) -> None:
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            responses = operation["responses"]
            assert set(responses) >= ERROR_CODES, (path, method)
            for code in ERROR_CODES:
                ref = responses[code]["content"]["application/json"]["schema"]["$ref"]
                assert ref == "#/components/schemas/ErrorOut", (path, method, code)
            # Either form of the one token: two alternatives, not both at once.
            assert operation["security"][:2] == [{"bearerAuth": []}, {"tokenAuth": []}]


def test_proposal_list_documents_filters_and_pagination(schema) -> None:
    operation = schema["paths"]["/api/v1/proposals/"]["get"]
    names = {p["name"] for p in operation["parameters"]}
    page_size = next(p for p in operation["parameters"] if p["name"] == "page_size")

    assert names == {
        "status",
        "department",
        "theme",
        "updated_after",
        "search",
        "cursor",
        "page_size",
    }
    assert page_size["schema"]["maximum"] == 500
    page = schema["components"]["schemas"]["PaginatedProposalOutList"]
    assert page["required"] == ["next", "previous", "results"]


def test_proposal_fields_match_spec_section_6(schema, client_for, alice) -> None:
    documented = schema["components"]["schemas"]["ProposalOut"]["properties"]
    spec_fields = {
        "id", "reference", "title", "summary", "problem", "who_has_the_problem",
        "proposed_solution", "expected_benefits", "cost_band", "estimated_benefit_gbp",
        "department", "collaborating_departments", "themes", "challenge", "status",
        "visibility", "created_at", "updated_at", "submitted_at", "decided_at", "url",
    }  # fmt: skip
    created = client_for(alice).post("/api/v1/proposals/", {"title": "Idea"}, format="json")
    listed = client_for(alice).get("/api/v1/proposals/").json()["results"][0]
    detail = created.json()

    assert spec_fields <= set(documented)
    assert set(listed) == set(documented)
    assert set(detail) == set(schema["components"]["schemas"]["ProposalDetailOut"]["properties"])
    assert set(detail) - set(listed) == {
        "decision", "experiments", "outcomes", "assessments", "feedback", "support_count",
        "available_actions",
    }  # fmt: skip


@pytest.mark.django_db
def test_docs_page_uses_bundled_swagger_ui_and_no_inline_code() -> None:
    client = APIClient()

    page = client.get("/api/docs/")
    script = client.get("/api/docs/?script=")

    html = page.content.decode()
    sources = re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', html)
    assert page.status_code == 200
    assert "<style" not in html
    assert "style=" not in html
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == []
    assert all(
        s.startswith("/static/drf_spectacular_sidecar/")
        or s.startswith("/api/docs/")
        or s == "/static/css/api-docs.css"  # our contrast and target-size fixes
        or s == "/static/js/api-docs.js"  # our settings and accessibility plugin
        for s in sources
    )
    for source in sources:
        if source.startswith("/static/"):
            assert finders.find(source.removeprefix("/static/")), source
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert "/api/schema/" in script.content.decode()
    # The start-up script takes its settings from static/js/api-docs.js, loaded before it.
    assert "const swaggerSettings = window.appApiDocsSettings;" in script.content.decode()
    assert sources.index("/static/js/api-docs.js") < sources.index("/api/docs/?script=")
