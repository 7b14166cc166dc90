"""The operators' view of the workers: every notification, webhook delivery and report,
filterable by status, with failures and their last error, and a way to retry."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from proposals import notifications, services, webhooks
from proposals.enums import DeliveryStatus, ReportStatus
from proposals.models import (
    Notification,
    NotificationPreference,
    Report,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("created_at", "kind", "recipient", "subject", "status", "attempts", "sent_at")
    list_filter = ("status", "kind", "created_at")
    search_fields = ("id", "recipient__email", "subject", "proposal__reference")
    readonly_fields = [f.name for f in Notification._meta.fields]
    list_select_related = ("recipient",)
    date_hierarchy = "created_at"
    actions = ["retry"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description="Send the selected failed notifications again")
    def retry(self, request: HttpRequest, queryset: QuerySet[Notification]) -> None:
        ids = list(queryset.filter(status=DeliveryStatus.FAILED).values_list("pk", flat=True))
        Notification.objects.filter(pk__in=ids, status=DeliveryStatus.FAILED).update(
            status=DeliveryStatus.PENDING, attempts=0, claimed_at=None
        )
        handed = notifications.enqueue(str(pk) for pk in ids)
        self.message_user(request, f"{handed} notification(s) queued again")


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(admin.ModelAdmin):
    list_display = ("user", "kind", "frequency")
    list_filter = ("kind", "frequency")
    search_fields = ("user__email",)


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    list_display = ("url", "department", "active", "created_at")
    list_filter = ("active", "department")
    search_fields = ("url",)
    exclude = ("secret",)


class WebhookAttemptInline(admin.TabularInline):
    """Every try, in order; the log (proposals.webhooks) has the network detail."""

    model = WebhookAttempt
    fields = readonly_fields = (
        "number",
        "started_at",
        "finished_at",
        "outcome",
        "response_status",
        "error",
    )
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    inlines = [WebhookAttemptInline]
    list_display = (
        "created_at",
        "event",
        "endpoint",
        "status",
        "attempts",
        "response_status",
        "delivered_at",
    )
    list_filter = ("status", "event", "response_status")
    search_fields = ("id", "endpoint__url")
    readonly_fields = [f.name for f in WebhookDelivery._meta.fields]
    list_select_related = ("endpoint",)
    actions = ["retry"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description="Deliver the selected failed deliveries again")
    def retry(self, request: HttpRequest, queryset: QuerySet[WebhookDelivery]) -> None:
        ids = list(queryset.filter(status=DeliveryStatus.FAILED).values_list("pk", flat=True))
        WebhookDelivery.objects.filter(pk__in=ids, status=DeliveryStatus.FAILED).update(
            status=DeliveryStatus.PENDING, attempts=0, claimed_at=None
        )
        handed = webhooks.enqueue(str(pk) for pk in ids)
        self.message_user(request, f"{handed} delivery(ies) queued again")


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):
    list_display = (
        "created_at",
        "kind",
        "format",
        "requested_by",
        "status",
        "progress",
        "row_count",
    )
    list_filter = ("status", "kind", "format")
    search_fields = ("id", "requested_by__email")
    readonly_fields = [f.name for f in Report._meta.fields]
    list_select_related = ("requested_by",)
    actions = ["retry", "cancel"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description="Build the selected failed reports again")
    def retry(self, request: HttpRequest, queryset: QuerySet[Report]) -> None:
        retried = 0
        for report in queryset.filter(status=ReportStatus.FAILED).select_related("requested_by"):
            services.report_retry(report=report, actor=request.user, on_behalf=True)  # type: ignore[arg-type]
            retried += 1
        self.message_user(request, f"{retried} report(s) queued again")

    @admin.action(description="Cancel the selected queued or building reports")
    def cancel(self, request: HttpRequest, queryset: QuerySet[Report]) -> None:
        cancelled = sum(
            services.report_cancel(report=report, actor=request.user)  # type: ignore[arg-type]
            for report in queryset.select_related("requested_by")
        )
        self.message_user(request, f"{cancelled} report(s) cancelled")
