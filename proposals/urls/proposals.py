"""A proposal's pages: finding, proposing, editing, the proposal itself, its
attachments, comments and supports."""

from django.urls import path

from proposals.urls import converters  # noqa: F401 - registers the `ref` converter
from proposals.views import detail, find, propose

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
    path("proposals/<ref:reference>/follow/", detail.follow, name="follow"),
    path("proposals/<ref:reference>/follow/stop/", detail.unfollow, name="unfollow"),
]
