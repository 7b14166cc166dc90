"""JSON only, with a size limit and no way to crash the parser."""

from __future__ import annotations

import codecs
import json
from typing import Any

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser
from rest_framework.utils.json import strict_constant

from proposals.api.exceptions import PayloadTooLarge


class LimitedJSONParser(JSONParser):
    """DRF's JSON parser reads the raw stream, bypassing Django's
    DATA_UPLOAD_MAX_MEMORY_SIZE check; this one applies it (413), and turns
    pathological nesting and bad encodings into a 400 rather than a 500."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if stream is None:
            return {}
        body = stream.read(limit + 1) if limit is not None else stream.read()
        if limit is not None and len(body) > limit:
            raise PayloadTooLarge(f"The request body is larger than {limit:,} bytes")
        encoding = (parser_context or {}).get("encoding") or settings.DEFAULT_CHARSET
        try:
            codecs.lookup(encoding)
            text = body.decode(encoding)
            return json.loads(text, parse_constant=strict_constant if self.strict else None)
        except (ValueError, LookupError) as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
        except RecursionError:
            raise ParseError("JSON parse error - nested too deeply") from None
