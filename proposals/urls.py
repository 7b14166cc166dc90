"""The submitter's pages (issue 3), mounted at the root: /proposals/…, /challenges/…,
/account/tokens/."""

from django.urls import path, register_converter

from proposals.views import challenges, detail, find, propose, tokens


class ReferenceConverter:
    """DFE-2026-0042, in any case (the page redirects to the capitalised address)."""

    regex = r"[A-Za-z0-9]+-[0-9]{4}-[0-9]{4,}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(ReferenceConverter, "ref")

app_name = "proposals"

urlpatterns = [
    path("proposals/", find.find, name="find"),
    path("proposals/new/", propose.new, name="new"),
    path("proposals/<ref:reference>/", detail.detail, name="detail"),
    path("proposals/<ref:reference>/edit/attachments/", propose.attachments, name="attachments"),
    path("proposals/<ref:reference>/edit/<slug:step>/", propose.edit, name="edit"),
    path("proposals/<ref:reference>/check/", propose.check_answers, name="check_answers"),
    path("proposals/<ref:reference>/submitted/", propose.submitted, name="submitted"),
    path("proposals/<ref:reference>/delete/", propose.delete, name="delete"),
    path("proposals/<ref:reference>/withdraw/", propose.withdraw, name="withdraw"),
    path("proposals/<ref:reference>/resubmit/", propose.resubmit, name="resubmit"),
    path("proposals/<ref:reference>/propose-again/", propose.propose_again, name="propose_again"),
    path(
        "proposals/<ref:reference>/attachments/<int:pk>/",
        propose.attachment_download,
        name="attachment",
    ),
    path(
        "proposals/<ref:reference>/attachments/<int:pk>/remove/",
        propose.attachment_remove,
        name="attachment_remove",
    ),
    path("proposals/<ref:reference>/comments/", detail.comment_add, name="comment_add"),
    path(
        "proposals/<ref:reference>/comments/<int:pk>/edit/",
        detail.comment_edit,
        name="comment_edit",
    ),
    path("proposals/<ref:reference>/support/", detail.support, name="support"),
    path(
        "proposals/<ref:reference>/support/withdraw/",
        detail.support_withdraw,
        name="support_withdraw",
    ),
    path("challenges/", challenges.challenge_list, name="challenges"),
    path("challenges/new/", challenges.challenge_new, name="challenge_new"),
    path("challenges/<slug:slug>/", challenges.challenge_detail, name="challenge"),
    path("challenges/<slug:slug>/close/", challenges.challenge_close, name="challenge_close"),
    path("account/tokens/", tokens.token_list, name="tokens"),
    path("account/tokens/new/", tokens.token_new, name="token_new"),
    path("account/tokens/created/", tokens.token_created, name="token_created"),
    path("account/tokens/<int:pk>/revoke/", tokens.token_revoke, name="token_revoke"),
]
