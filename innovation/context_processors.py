from typing import Any

from django.conf import settings
from django.http import HttpRequest

from accounts.middleware import seconds_left


def service(request: HttpRequest) -> dict[str, Any]:
    """What every page's layout needs: the service name and the session timeout."""
    user = getattr(request, "user", None)
    signed_in = user is not None and user.is_authenticated
    return {
        "SERVICE_NAME": settings.SERVICE_NAME,
        "FEEDBACK_EMAIL": settings.FEEDBACK_EMAIL,
        "SESSION_IDLE_TIMEOUT": settings.SESSION_IDLE_TIMEOUT,
        # What the timeout warning counts down from: the idle timeout, or less
        # when the session's absolute lifetime ends sooner.
        "SESSION_SECONDS_LEFT": seconds_left(request)
        if signed_in
        else settings.SESSION_IDLE_TIMEOUT,
        "OIDC_ENABLED": settings.OIDC_ENABLED,
    }
