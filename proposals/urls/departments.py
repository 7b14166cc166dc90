"""A department's settings and its people, for its leads."""

from django.urls import path

from proposals.views import department

app_name = "departments"

urlpatterns = [
    path("department/settings/", department.department_settings, name="settings"),
    path("department/settings/people/<int:pk>/role/", department.set_role, name="set_role"),
    path("department/settings/move/", department.move_person, name="move_person"),
]
