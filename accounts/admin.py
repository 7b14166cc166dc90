"""The operators' admin for people, departments and tokens.

Changes made here bypass the audited services, so the pages that matter to
departments (moving people, panel membership) are read-only here and done
through the product or `user_move_department`.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from accounts.models import ApiToken, Department, Invitation, User


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ("name", "acronym", "slug", "email_domain", "parent", "triage_target_days")
    search_fields = ("name", "acronym", "slug", "email_domain")
    list_select_related = ("parent",)


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ("email",)
    list_display = ("email", "full_name", "department", "role", "is_active", "last_login")
    list_filter = ("role", "is_active", "is_staff", "department")
    list_select_related = ("department",)
    search_fields = ("email", "full_name")
    readonly_fields = ("department", "role", "last_login", "date_joined")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Person", {"fields": ("full_name", "department", "role")}),
        ("Access", {"fields": ("is_active", "is_staff", "is_superuser")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"fields": ("email", "full_name", "department", "password1", "password2")}),
    )

    def get_readonly_fields(self, request, obj=None):  # type: ignore[no-untyped-def]
        # Department and role are chosen when adding someone; later changes go
        # through the audited services.
        return self.readonly_fields if obj is not None else ("last_login", "date_joined")


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "prefix", "user", "scope", "expires_at", "last_used_at", "revoked_at")
    list_filter = ("scope",)
    search_fields = ("prefix", "name", "user__email")
    readonly_fields = ("prefix", "key_hash", "created_at", "last_used_at")
    list_select_related = ("user",)


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    """Read-only: invitations are made and withdrawn through the audited product
    pages (/account/invitations/), which staff may use for any department."""

    list_display = ("email", "department", "role", "invited_by", "created_at", "expires_at")
    list_filter = ("email_status", "role", "department")
    search_fields = ("email",)
    list_select_related = ("department", "invited_by")
    readonly_fields = [field.name for field in Invitation._meta.fields]

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False
