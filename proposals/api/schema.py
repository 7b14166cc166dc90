"""drf-spectacular's AutoSchema, plus the error responses every operation can give,
so the schema documents every status the API answers with (schemathesis checks it)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema

from proposals import glossary
from proposals.api.serializers import ErrorOut

ERRORS = {
    "400": "Invalid input: `errors` says which field and why",
    "401": "No token, or a token that is unknown, expired or revoked",
    "403": "A read-only token writing, or an action you may not take",
    "404": "No such object, or one you may not see",
    "405": "Method not allowed here",
    "406": "Cannot answer in the media type asked for",
    "409": "The object is not in a state that allows this action",
    "412": "`If-Match` names an older version",
    "413": "Request body too large",
    "415": "Send JSON (`Content-Type: application/json`)",
    "429": "Rate limit reached: wait `Retry-After` seconds",
}


RATE_LIMIT_HEADERS = {
    "RateLimit-Limit": {
        "schema": {"type": "integer"},
        "description": "Requests allowed per window for your token (API_RATE_LIMIT).",
    },
    "RateLimit-Remaining": {
        "schema": {"type": "integer"},
        "description": "Requests left in the window, this one counted.",
    },
    "RateLimit-Reset": {
        "schema": {"type": "integer"},
        "description": "Seconds until the oldest counted request leaves the window.",
    },
}


class ApiSchema(AutoSchema):
    def _get_response_bodies(self, direction: str = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)  # type: ignore[arg-type]
        for code in ERRORS:
            if code not in responses:
                responses[code] = self._get_response_for_code(ErrorOut, code, direction=direction)
                responses[code]["description"] = ERRORS[code]
        for code, response in responses.items():
            if code in {"401", "405", "406", "413", "415"}:
                continue  # refused before the throttle counts the request
            response.setdefault("headers", {}).update(RATE_LIMIT_HEADERS)
        responses["429"]["headers"]["Retry-After"] = {
            "schema": {"type": "integer"},
            "required": True,
            "description": "Seconds to wait before trying again.",
        }
        return responses


class TokenAuthScheme(OpenApiAuthenticationExtension):
    """The one key, in either of the two forms `TokenAuthentication` reads.

    `bearerAuth` (OpenAPI's `http` bearer scheme) is what generated clients send
    by default; `tokenAuth` documents the `Token <key>` form. Either is enough:
    two requirement objects, not one with both (which would mean both at once).
    """

    target_class = "accounts.authentication.TokenAuthentication"
    name = ["bearerAuth", "tokenAuth"]

    def get_security_requirement(self, auto_schema: Any) -> list[dict[str, list[str]]]:
        return [{"bearerAuth": []}, {"tokenAuth": []}]

    def get_security_definition(self, auto_schema: Any) -> list[dict[str, Any]]:
        where = "from /account/tokens/ or `manage.py create_api_token`"
        return [
            {
                "type": "http",
                "scheme": "bearer",
                "description": f"`Authorization: Bearer <key>`, the API token ({where}).",
            },
            {
                "type": "apiKey",
                "in": "header",
                "name": "Authorization",
                "description": (
                    f"`Authorization: Token <key>`: the same API token ({where}), "
                    "the whole header value being `Token ` and the key."
                ),
            },
        ]


# --- examples ---------------------------------------------------------------------------------

# Realistic values for fields whose name says what they hold; anything else gets a
# value of its declared type and format.
_NAMED = {
    "reference": "DFE-2026-0042",
    "title": "Read benefit claim forms automatically",
    "slug": "dfe",
    "department": "dfe",
    "acronym": "DfE",
    "cost_band": "under_10k",
    "challenge": "paperless-courts",
    "merged_into": None,
    "themes": "automation",
    "collaborating_departments": "home-office",
    "summary": "Caseworkers retype paper forms; read them automatically instead.",
    "email": "reviewer@dfe.example",
    "url": "https://innovation.example/proposals/DFE-2026-0042/",
    "download_url": "https://innovation.example/api/v1/reports/3f2c…/download/",
    "next": "https://innovation.example/api/v1/proposals/?cursor=cD0yMDI2",
    "previous": None,
    "detail": "Enter a title",
    "code": "invalid",
    "cursor": "eyJkIjoiNzI2MDo3MjYwOiJ9:1xZ0Fn:72t-Ap4",
    "next_cursor": "eyJkIjoiNzI2NTo3MjY1OiJ9:1xZ0Go:Qd81-xw",
}
TEXT = "Example text"
_BY_FORMAT = {
    "date-time": "2026-11-28T09:30:00Z",
    "date": "2026-11-28",
    "uuid": "6f1c2a9e-3b4d-4e5f-8a9b-0c1d2e3f4a5b",
    "uri": "https://innovation.example/",
    "decimal": "2.50",
    "email": "reviewer@dfe.example",
}


def _example(schema: dict[str, Any], components: dict[str, Any], name: str = "", depth: int = 0):
    if "$ref" in schema:
        schema = components.get(schema["$ref"].rsplit("/", 1)[-1], {})
    if "allOf" in schema:
        return _example(schema["allOf"][0], components, name, depth)
    if "oneOf" in schema or "anyOf" in schema:
        # Nullable or blank enums are a oneOf: take the first option with a real value.
        options = [
            _example(option, components, name, depth)
            for option in schema.get("oneOf") or schema["anyOf"]
        ]
        return next((o for o in options if o not in (None, "", TEXT)), options[0])
    if "enum" in schema:
        return next((v for v in schema["enum"] if v not in (None, "")), None)
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        if depth > 4:
            return {}
        return {
            key: _example(value, components, key, depth + 1)
            for key, value in schema.get("properties", {}).items()
        }
    if kind == "array":
        return [_example(schema.get("items", {}), components, name, depth + 1)] if depth < 5 else []
    if name in _NAMED and kind in (None, "string") and "format" not in schema:
        return _NAMED[name]
    if kind == "string":
        return _BY_FORMAT.get(schema.get("format", ""), TEXT)
    if kind == "integer":
        return max(1, int(schema.get("minimum", 1)))
    if kind == "number":
        return 1.5
    if kind == "boolean":
        return True
    return None


def add_examples(result: dict[str, Any], generator: Any, request: Any, public: Any) -> dict:
    """Give every JSON request body and success response an example (drf-spectacular
    postprocessing hook), built from its schema where no hand-written one exists."""
    components = result.get("components", {}).get("schemas", {})
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            bodies = [operation.get("requestBody", {})]
            bodies += [
                body for code, body in operation.get("responses", {}).items() if code[0] == "2"
            ]
            for body in bodies:
                media = body.get("content", {}).get("application/json")
                if media is None or "examples" in media or "example" in media:
                    continue
                if media.get("schema", {}).get("format") == "binary":
                    continue
                media["examples"] = {
                    "example": {
                        "summary": "An example",
                        "value": _example(media.get("schema", {}), components),
                    }
                }
    return result


def fill_descriptions(result: dict[str, Any], generator: Any, request: Any, public: Any) -> dict:
    """Describe every property of every component (drf-spectacular postprocessing hook):
    a field's own `help_text` first, else its word in `proposals.glossary`. A `$ref`
    cannot carry a description beside it, so it is wrapped in `allOf`, as
    drf-spectacular does for a nested serializer with help text."""
    for component, schema in result.get("components", {}).get("schemas", {}).items():
        resource = glossary.resource_name(component)
        for field, prop in schema.get("properties", {}).items():
            if prop.get("description"):
                continue
            word = glossary.meaning(resource, field)
            if not word:
                continue
            if "$ref" in prop:
                prop["allOf"] = [{"$ref": prop.pop("$ref")}]
            prop["description"] = word
    return result
