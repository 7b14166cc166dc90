#!/usr/bin/env python3
"""The container's HEALTHCHECK: exit 0 when /healthz answers 200, else 1.

It sends the first ALLOWED_HOSTS name as the Host header, because Django
answers 400 to a host it does not serve, and production allows only its own.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request


def main() -> int:
    port = os.environ.get("PORT") or "8000"
    hosts = [h.strip() for h in os.environ.get("ALLOWED_HOSTS", "").split(",") if h.strip()]
    # ".example.org" allows subdomains; "*" allows anything.
    host = hosts[0].lstrip(".").replace("*", "localhost") if hosts else "localhost"
    request = urllib.request.Request(f"http://127.0.0.1:{port}/healthz", headers={"Host": host})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 - http://127.0.0.1 only
            return 0 if response.status == 200 else 1
    except (urllib.error.URLError, OSError) as error:
        print(f"healthcheck: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
