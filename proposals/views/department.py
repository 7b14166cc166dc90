"""Department settings for portfolio leads: criteria and weights, triage target,
minimum assessments, moderation threshold and panel membership. Configured, not
customised, and audited (every change goes through a service)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from accounts.models import User
from proposals import permissions as perms
from proposals import services
from proposals.forms.common import add_service_errors
from proposals.forms.departments import (
    ROLE_CHOICES,
    DepartmentSettingsForm,
    MoveForm,
    RoleForm,
)
from proposals.models import Criterion
from proposals.views.review import current_user


def _require_configure(request: HttpRequest) -> None:
    if not perms.can_configure(current_user(request), current_user(request).department):
        raise PermissionDenied("Only the department's portfolio lead can change its settings")


@login_required
@require_http_methods(["GET", "POST"])
def department_settings(request: HttpRequest) -> HttpResponse:
    _require_configure(request)
    department = current_user(request).department
    criteria = list(Criterion.objects.filter(department=department))
    initial = {
        "triage_target_days": department.triage_target_days,
        "min_assessments": department.min_assessments,
        "moderation_threshold": department.moderation_threshold,
        "evaluation_plan_required": department.evaluation_plan_required,
    }
    form = DepartmentSettingsForm(request.POST or None, criteria=criteria, initial=initial)
    if request.method == "POST" and form.is_valid():
        rows = form.criteria_data()
        if form.is_valid():  # criteria_data may add errors
            try:
                services.department_configure(
                    department=department,
                    actor=current_user(request),
                    data={
                        name: form.cleaned_data[name]
                        for name in (
                            "triage_target_days",
                            "min_assessments",
                            "moderation_threshold",
                            "evaluation_plan_required",
                        )
                    },
                    criteria=rows,
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, "Your department's settings are saved")
                return redirect("departments:settings")
    people = User.objects.filter(department=department, is_active=True).order_by("full_name")
    return render(
        request,
        "departments/settings.html",
        {
            "form": form,
            "department": department,
            "people": people,
            "roles": ROLE_CHOICES,
        },
    )


@login_required
@require_POST
def set_role(request: HttpRequest, pk: int) -> HttpResponse:
    _require_configure(request)
    person = User.objects.filter(pk=pk, department=current_user(request).department).first()
    if person is None:
        raise Http404("No such person in your department")
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Select submitter, reviewer or portfolio lead")
        return redirect("departments:settings")
    try:
        services.user_set_role(
            user=person, actor=current_user(request), role=form.cleaned_data["role"]
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request, f"{person.full_name} is now a {person.get_role_display().lower()}"
        )
    return redirect("departments:settings")


@login_required
@require_http_methods(["GET", "POST"])
def move_person(request: HttpRequest) -> HttpResponse:
    """Move a colleague to the department they now work in (audited; they arrive as a
    submitter, since review rights do not travel)."""
    _require_configure(request)
    lead = current_user(request)
    form = MoveForm(request.POST or None, lead=lead)
    if request.method == "POST" and form.is_valid():
        person = form.cleaned_data["person"]
        destination = form.cleaned_data["department"]
        services.user_move_department(user=person, actor=lead, department=destination)
        messages.success(request, f"{person.full_name} now works in {destination.name}")
        return redirect("departments:settings")
    status = 400 if form.errors else 200
    return render(request, "departments/move_person.html", {"form": form}, status=status)
