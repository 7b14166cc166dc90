"""The service's URLs with single sign-on switched on, as innovation/urls.py
builds them when OIDC_CLIENT_ID is set (settings are read once, at import, so
the OIDC tests point ROOT_URLCONF here instead of re-importing settings)."""

from django.urls import include, path

from innovation.urls import handler400, handler403, handler404, handler500, urlpatterns

urlpatterns = [*urlpatterns, path("oidc/", include("mozilla_django_oidc.urls"))]

__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]
