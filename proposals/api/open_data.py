"""/data/: published lessons as an open dataset, for anyone (no sign-in).

- `/data/catalog.json`: a DCAT catalogue (the data.json form data.gov.uk
  harvests), with data.gov.uk's mandatory fields: title, description,
  identifier, licence (the Open Government Licence v3), issued and modified;
- `/data/lessons.csv`: the dataset, as last built by beat (`opendata.build`);
- `/data/lessons.schema.json`: its Frictionless Table Schema, generated from the
  data dictionary's section for it (`api/dictionary.py`).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.files.storage import default_storage
from django.http import FileResponse, HttpRequest, JsonResponse
from django.urls import reverse
from django.views.decorators.http import require_safe

from proposals import glossary, opendata
from proposals.api import dictionary

OGL_V3 = "http://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"


def catalog_document(manifest: dict[str, Any]) -> dict[str, Any]:
    site = settings.SITE_URL.rstrip("/")
    dataset_id = f"{site}{reverse('data:catalog')}#lessons"
    return {
        "@context": "https://project-open-data.cio.gov/v1.1/schema/catalog.jsonld",
        "@id": f"{site}{reverse('data:catalog')}",
        "@type": "dcat:Catalog",
        "conformsTo": "https://project-open-data.cio.gov/v1.1/schema",
        "describedBy": "https://project-open-data.cio.gov/v1.1/schema/catalog.json",
        "title": f"{settings.SERVICE_NAME}: open data",
        "description": "Open data published by the Propose an innovation service.",
        "modified": manifest["modified"],
        "dataset": [
            {
                "@type": "dcat:Dataset",
                "identifier": dataset_id,
                "title": glossary.LESSONS_DATASET["title"],
                "description": glossary.LESSONS_DATASET["description"],
                "license": OGL_V3,
                "issued": manifest["issued"],
                "modified": manifest["modified"],
                "accessLevel": "public",
                "publisher": {"@type": "org:Organization", "name": "Cabinet Office"},
                "contactPoint": {
                    "@type": "vcard:Contact",
                    "fn": settings.SERVICE_NAME,
                    "hasEmail": f"mailto:{settings.FEEDBACK_EMAIL}",
                },
                "keyword": ["innovation", "experiments", "lessons learned", "government"],
                "accrualPeriodicity": "R/PT1H",
                "landingPage": f"{site}{reverse('lessons:list')}",
                "distribution": [
                    {
                        "@type": "dcat:Distribution",
                        "title": "Published lessons (CSV)",
                        "downloadURL": f"{site}{reverse('data:lessons')}",
                        "mediaType": "text/csv",
                        "format": "CSV",
                        "describedBy": f"{site}{reverse('data:lessons_schema')}",
                        "describedByType": "application/json",
                    }
                ],
            }
        ],
    }


@require_safe
def catalog(request: HttpRequest) -> JsonResponse:
    return JsonResponse(catalog_document(opendata.latest()), json_dumps_params={"indent": 2})


@require_safe
def lessons(request: HttpRequest) -> FileResponse:
    manifest = opendata.latest()
    response = FileResponse(
        default_storage.open(manifest["file"]),
        content_type="text/csv; charset=utf-8",
        as_attachment=True,
        filename="lessons.csv",
    )
    response["Link"] = f'<{reverse("data:lessons_schema")}>; rel="describedby"'
    return response


@require_safe
def lessons_schema(request: HttpRequest) -> JsonResponse:
    return JsonResponse(
        dictionary.table_schema(dictionary.sections()),
        json_dumps_params={"indent": 2, "ensure_ascii": False},
    )
