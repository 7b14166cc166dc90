from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from accounts import views as account_views
from innovation import pages
from innovation.health import healthz

urlpatterns = [
    path("", pages.home, name="home"),
    path("privacy/", pages.privacy, name="privacy"),
    path("accessibility/", pages.accessibility, name="accessibility"),
    path("cookies/", pages.cookies, name="cookies"),
    path("accounts/", include("accounts.urls")),
    path("account/", account_views.account, name="account"),
    path("", include("proposals.urls")),
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/", include("proposals.api.urls")),
]

if settings.OIDC_ENABLED:
    urlpatterns.append(path("oidc/", include("mozilla_django_oidc.urls")))

handler400 = "innovation.pages.bad_request"
handler403 = "innovation.pages.permission_denied"
handler404 = "innovation.pages.page_not_found"
handler500 = "innovation.pages.server_error"
