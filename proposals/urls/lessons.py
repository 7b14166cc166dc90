"""The lessons library: published outcomes across government, and their adoption."""

from django.urls import path

from proposals.views import lessons

app_name = "lessons"

urlpatterns = [
    path("lessons/", lessons.lesson_list, name="list"),
    path("lessons/<int:pk>/", lessons.lesson_detail, name="detail"),
    path("lessons/<int:pk>/adopt/", lessons.lesson_adopt, name="adopt"),
]
