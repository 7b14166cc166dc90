"""`python manage.py create_api_token <email> [--write] [--days N]` (SPEC §7).

Prints the new key alone on the last line, so scripts can take `tail -n 1`.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import TokenScope, User
from proposals.services import api_token_create


class Command(BaseCommand):
    help = "Create an API token for a user and print it (it is shown only once)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email", help="the token owner's email address")
        parser.add_argument(
            "--write", action="store_true", help="read and write scope (default: read only)"
        )
        parser.add_argument(
            "--days",
            type=int,
            default=settings.API_TOKEN_DEFAULT_DAYS,
            help=f"days until it expires (default {settings.API_TOKEN_DEFAULT_DAYS})",
        )
        parser.add_argument("--name", default="Created with manage.py", help="a label for it")

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(email__iexact=options["email"].strip()).first()
        if user is None:
            raise CommandError(f"No user with the email address {options['email']}")
        if not user.is_active:
            raise CommandError(f"{user.email} is deactivated")
        scope = TokenScope.WRITE if options["write"] else TokenScope.READ
        try:
            token, key = api_token_create(
                user=user, name=options["name"], scope=scope, days=options["days"]
            )
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from None
        self.stdout.write(
            f"Created a {token.get_scope_display().lower()} token {token.prefix}… for "
            f"{user.email}, expiring {token.expires_at:%Y-%m-%d %H:%M %Z}. "
            "Copy it now: it is not shown again."
        )
        self.stdout.write(key)
