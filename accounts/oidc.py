"""Single sign-on with a department's OpenID Connect provider (Microsoft Entra
ID or any other). Enabled by settings when OIDC_CLIENT_ID is set.

A person's first sign-in creates their account in the department whose
`email_domain` matches their email address, as a submitter (SPEC §1); later
sign-ins find the account by email. People from a domain no department has
are refused with a message saying why.
"""

from __future__ import annotations

import logging
from typing import Any

from django.contrib import messages
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from accounts.models import Department, Role, User, email_domain

logger = logging.getLogger(__name__)

UNKNOWN_DOMAIN_MESSAGE = (
    "You cannot sign in with {domain} yet: no department in this service uses that "
    "email domain. Ask your department's digital team to add it, or sign in with "
    "your email address and password."
)
NO_EMAIL_MESSAGE = (
    "Your department account did not give us a verified email address, so we could "
    "not sign you in. Contact your department's IT service desk."
)
INACTIVE_MESSAGE = "Your account has been deactivated. Ask your department's portfolio lead."


__all__ = ["DepartmentOIDCBackend", "email_domain"]


class DepartmentOIDCBackend(OIDCAuthenticationBackend):
    def verify_claims(self, claims: dict[str, Any]) -> bool:
        email = claims.get("email")
        # Providers that say an address is unverified are not trusted with it.
        if not email or claims.get("email_verified") is False:
            self._tell(NO_EMAIL_MESSAGE)
            return False
        return True

    def filter_users_by_claims(self, claims: dict[str, Any]) -> Any:
        return User.objects.filter(email__iexact=claims["email"].strip())

    def create_user(self, claims: dict[str, Any]) -> User | None:
        email = claims["email"].strip().lower()
        domain = email_domain(email)
        department = Department.objects.for_email(email)
        if department is None:
            logger.info("Refused single sign-on for unknown email domain %s", domain)
            self._tell(UNKNOWN_DOMAIN_MESSAGE.format(domain=domain))
            return None
        name = (
            claims.get("name")
            or " ".join(p for p in (claims.get("given_name"), claims.get("family_name")) if p)
            or email.split("@")[0]
        )
        # No password (an unusable one): this person signs in through their department.
        user = User.objects.create_user(
            email=email,
            password=None,
            full_name=name[:150],
            department=department,
            role=Role.SUBMITTER,
        )
        logger.info("Created %s in %s from single sign-on", email, department.slug)
        return user

    def update_user(self, user: User, claims: dict[str, Any]) -> User:
        if not user.is_active:
            self._tell(INACTIVE_MESSAGE)
        return user

    def _tell(self, message: str) -> None:
        request = getattr(self, "request", None)
        if request is not None:
            messages.error(request, message)
