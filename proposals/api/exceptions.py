"""One JSON shape for every API error (SPEC §6):

    {"detail": "<message>", "errors": {"<field>": ["<message>", …]}, "code": "<machine>"}

`errors` is present for validation failures only. Refusals map to statuses
here, once, by their kind (`workflow.kind_of`, the same the pages use):
invalid 400, forbidden 403, conflict 409; besides them `Http404` 404,
`StaleVersion` 412, a body over DATA_UPLOAD_MAX_MEMORY_SIZE 413. Anything
unexpected is logged and answered with a plain 500 message: never HTML, never a
traceback.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from proposals import workflow
from proposals.api.renderers import JSONRenderer
from proposals.exceptions import RefusalKind, Refused, StaleVersion

logger = logging.getLogger(__name__)

NON_FIELD = "non_field_errors"


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The proposal is not in a state that allows this action"
    default_code = "conflict"


class PreconditionFailed(exceptions.APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = "This proposal was changed since you loaded it: fetch it again"
    default_code = "precondition_failed"


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large"
    default_code = "too_large"


def _django_errors(exc: DjangoValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {
            (NON_FIELD if name == "__all__" else name): [str(m) for m in messages]
            for name, messages in exc.message_dict.items()
        }
    return {NON_FIELD: [str(m) for m in exc.messages]}


def _flatten(data: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error structures as `{"field.sub.0": ["message"]}`."""
    out: dict[str, list[str]] = {}
    if isinstance(data, dict):
        for key, value in data.items():
            name = NON_FIELD if key in {"__all__", "non_field_errors"} and not prefix else str(key)
            for field, messages in _flatten(value, f"{prefix}{name}.").items():
                out.setdefault(field, []).extend(messages)
    elif isinstance(data, list) and data and all(not isinstance(i, dict | list) for i in data):
        out[prefix.rstrip(".") or NON_FIELD] = [str(item) for item in data]
    elif isinstance(data, list):
        for index, value in enumerate(data):
            if value:
                for field, messages in _flatten(value, f"{prefix}{index}.").items():
                    out.setdefault(field, []).extend(messages)
    elif data not in (None, ""):
        out[prefix.rstrip(".") or NON_FIELD] = [str(data)]
    return out


def _translate(exc: Exception) -> Exception:
    """The API's one mapping of refusals (and of the other service errors)."""
    if isinstance(exc, exceptions.APIException):
        return exc
    kind = workflow.kind_of(exc)
    if kind == RefusalKind.INVALID:
        if isinstance(exc, Refused):
            return exceptions.ValidationError(
                exc.refusal.errors or {NON_FIELD: [exc.refusal.message]}
            )
        assert isinstance(exc, DjangoValidationError)
        return exceptions.ValidationError(_django_errors(exc))
    if kind == RefusalKind.FORBIDDEN:
        return exceptions.PermissionDenied(str(exc) or None)
    if kind == RefusalKind.CONFLICT:
        return Conflict(str(exc) or None)
    if isinstance(exc, StaleVersion):
        return PreconditionFailed(str(exc) or None)
    if isinstance(exc, RequestDataTooBig):
        return PayloadTooLarge(
            f"The request body is larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE:,} bytes"
        )
    if isinstance(exc, Http404):
        return exceptions.NotFound("Not found")
    return exc


def error_code(exc: exceptions.APIException) -> str:
    """The machine-readable `code`: the exception's kind, not its message's."""
    if isinstance(exc, exceptions.ValidationError):
        return "invalid"
    return str(exc.default_code)


def error_body(exc: exceptions.APIException) -> dict[str, Any]:
    if isinstance(exc, exceptions.ValidationError):
        errors = _flatten(exc.detail) or {NON_FIELD: ["Invalid input"]}
        field, messages = next(iter(errors.items()))
        first = messages[0] if field == NON_FIELD else f"{field}: {messages[0]}"
        more = len(errors) > 1 or len(messages) > 1
        return {
            "detail": f"{first} (and more: see errors)" if more else first,
            "errors": errors,
            "code": error_code(exc),
        }
    detail: Any = exc.detail
    if isinstance(detail, dict):
        detail = detail.get("detail", next(iter(detail.values()), ""))
    if isinstance(detail, list):
        detail = detail[0] if detail else ""
    return {"detail": str(detail), "code": error_code(exc)}


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    """DRF's EXCEPTION_HANDLER: every error in the one shape, always as JSON."""
    exc = _translate(exc)
    response = drf_exception_handler(exc, context)
    if response is None:
        view = context.get("view")
        logger.exception("Unhandled error in API view %s", type(view).__name__, exc_info=exc)
        response = Response(
            {
                "detail": "Something went wrong on our side. It has been logged; try again later.",
                "code": "server_error",
            },
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )
    elif isinstance(exc, exceptions.APIException):
        response.data = error_body(exc)
    request = context.get("request")
    if request is not None:
        # Errors are JSON even for a browser asking for the browsable API.
        request.accepted_renderer = JSONRenderer()
        request.accepted_media_type = "application/json"
    return response


@csrf_exempt  # nothing to protect, and a CSRF refusal would be an HTML page
def api_not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    """A JSON 404 for any /api/ address that matches no endpoint."""
    return JsonResponse(
        {"detail": "Not found: no API endpoint at this address", "code": "not_found"}, status=404
    )
