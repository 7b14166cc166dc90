"""API tokens: create (the key shown once), list, revoke."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache

from accounts.models import ApiToken
from proposals import services
from proposals.forms.common import add_service_errors
from proposals.forms.tokens import TokenForm
from proposals.views._common import user_of

# The new key waits in the session only until the next page shows it once.
NEW_KEY_SESSION = "api_token_new_key"


@login_required
def token_list(request: HttpRequest) -> HttpResponse:
    tokens = list(ApiToken.objects.filter(user=user_of(request)).order_by("-created_at"))
    return render(request, "account/tokens.html", {"tokens": tokens})


@login_required
@never_cache
def token_new(request: HttpRequest) -> HttpResponse:
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            token, key = services.api_token_create(
                user=user_of(request),
                name=form.cleaned_data["name"],
                scope=form.cleaned_data["scope"],
                days=form.cleaned_data["days"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            request.session[NEW_KEY_SESSION] = {"id": token.pk, "key": key}
            return redirect("account:token_created")
    return render(
        request, "account/token_new.html", {"form": form}, status=400 if form.errors else 200
    )


@login_required
@never_cache
def token_created(request: HttpRequest) -> HttpResponse:
    """Shows the key once: it is taken out of the session as the page is made."""
    new = request.session.pop(NEW_KEY_SESSION, None)
    if not new:
        return redirect("account:tokens")
    token = get_object_or_404(ApiToken, pk=new["id"], user=user_of(request))
    # never_cache makes it no-store: the key must not stay in any cache.
    return render(request, "account/token_created.html", {"token": token, "key": new["key"]})


@login_required
@never_cache
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(ApiToken, pk=pk, user=user_of(request))
    if request.method == "POST":
        services.api_token_revoke(token=token, actor=user_of(request))
        messages.success(request, f"The token “{token.name}” has been revoked")
        return redirect("account:tokens")
    return render(request, "account/token_revoke.html", {"token": token})
