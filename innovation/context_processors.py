from typing import Any

from django.conf import settings
from django.http import HttpRequest


def service(request: HttpRequest) -> dict[str, Any]:
    """What every page's layout needs: the service name and the session timeout."""
    return {
        "SERVICE_NAME": settings.SERVICE_NAME,
        "FEEDBACK_EMAIL": settings.FEEDBACK_EMAIL,
        "SESSION_IDLE_TIMEOUT": settings.SESSION_IDLE_TIMEOUT,
        "OIDC_ENABLED": settings.OIDC_ENABLED,
    }
