"""A person's own settings: API tokens, notifications, and (for leads) webhooks and
invitations; and the invitation link's page."""

from django.urls import path

from proposals.views import account, invitations, tokens

app_name = "account"

urlpatterns = [
    path("account/tokens/", tokens.token_list, name="tokens"),
    path("account/tokens/new/", tokens.token_new, name="token_new"),
    path("account/tokens/created/", tokens.token_created, name="token_created"),
    path("account/tokens/<int:pk>/revoke/", tokens.token_revoke, name="token_revoke"),
    path("account/invitations/", invitations.invitation_list, name="invitations"),
    path("account/invitations/new/", invitations.invitation_new, name="invitation_new"),
    path(
        "account/invitations/<int:pk>/withdraw/",
        invitations.invitation_revoke,
        name="invitation_revoke",
    ),
    # Under /accounts/ with sign-in and password reset, where a signed-out
    # person's pages are; here because accounts/ imports nothing of the domain.
    path(
        "accounts/invitation/<str:token>/",
        invitations.invitation_accept,
        name="invitation_accept",
    ),
    path("account/notifications/", account.notifications_page, name="notifications"),
    path("account/webhooks/", account.webhooks_page, name="webhooks"),
    path("account/webhooks/<int:endpoint_id>/test/", account.webhook_test, name="webhook_test"),
    path(
        "account/webhooks/<int:endpoint_id>/remove/", account.webhook_remove, name="webhook_remove"
    ),
    path(
        "account/webhooks/<int:endpoint_id>/rotate/", account.webhook_rotate, name="webhook_rotate"
    ),
    path(
        "account/webhooks/<int:endpoint_id>/retire-secret/",
        account.webhook_retire_secret,
        name="webhook_retire_secret",
    ),
]
