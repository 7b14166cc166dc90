"""drf-spectacular's AutoSchema, plus the error responses every operation can give,
so the schema documents every status the API answers with (schemathesis checks it)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema

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


class ApiSchema(AutoSchema):
    def _get_response_bodies(self, direction: str = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)  # type: ignore[arg-type]
        for code in ERRORS:
            if code not in responses:
                responses[code] = self._get_response_for_code(ErrorOut, code, direction=direction)
                responses[code]["description"] = ERRORS[code]
        responses["429"]["headers"] = {
            "Retry-After": {
                "schema": {"type": "integer"},
                "required": True,
                "description": "Seconds to wait before trying again.",
            }
        }
        return responses


class TokenAuthScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.authentication.TokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Token <key>`: from /account/tokens/ or `manage.py create_api_token`.",
        }
