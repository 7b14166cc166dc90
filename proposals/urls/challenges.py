"""Challenges: calls for ideas."""

from django.urls import path

from proposals.views import challenges

app_name = "challenges"

urlpatterns = [
    path("challenges/", challenges.challenge_list, name="list"),
    path("challenges/new/", challenges.challenge_new, name="new"),
    path("challenges/<slug:slug>/", challenges.challenge_detail, name="detail"),
    path("challenges/<slug:slug>/close/", challenges.challenge_close, name="close"),
]
