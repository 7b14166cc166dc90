"""Write the data dictionary as Markdown to docs/data-dictionary.md (or check it is current)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from proposals.api import dictionary

DOC = Path(settings.BASE_DIR) / "docs" / "data-dictionary.md"


class Command(BaseCommand):
    help = "Generate docs/data-dictionary.md from the code (the words: proposals/glossary.py)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--check", action="store_true", help="Fail if the file is not what the code gives."
        )

    def handle(self, *args: Any, check: bool = False, **options: Any) -> None:
        text = dictionary.to_markdown(dictionary.build())
        if check:
            if not DOC.exists() or DOC.read_text(encoding="utf-8") != text:
                raise CommandError(f"{DOC} is out of date: run `python manage.py data_dictionary`")
            self.stdout.write(f"{DOC} is up to date")
            return
        DOC.write_text(text, encoding="utf-8")
        self.stdout.write(f"Wrote {DOC}")
