"""Attachments of a proposal: checked by their content, stored under a safe name."""

from __future__ import annotations

import secrets
from typing import Any

import filetype
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction

from accounts.models import User
from proposals import permissions as perms
from proposals.enums import (
    AuditAudience,
    Status,
)
from proposals.exceptions import ActionNotAllowed
from proposals.models import (
    Attachment,
    Proposal,
)
from proposals.services.base import audit, lock_proposal

# --- attachments -------------------------------------------------------------------------

# What an attachment may be (SPEC §3), decided from the file's bytes by `filetype`,
# never from its name or the browser's MIME type: the file is served with the type
# found here, so a page saved as "photo.png" can never be served as HTML.
ATTACHMENT_TYPES = {
    "application/pdf": "pdf",
    "application/vnd.oasis.opendocument.text": "odt",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "image/png": "png",
    "image/jpeg": "jpg",
}
ATTACHMENTS_PER_PROPOSAL = 10


def _attachment_name(original: str, extension: str) -> str:
    """The uploaded name without any path, ending in the extension its content has."""
    name = original.replace("\\", "/").rsplit("/", 1)[-1].strip() or "attachment"
    name = "".join(ch for ch in name if ch.isprintable() and ch not in '"<>:|?*')[:150]
    _stem, dot, ext = name.rpartition(".")
    if not dot or ext.lower() not in ({extension} | ({"jpeg"} if extension == "jpg" else set())):
        name = f"{name}.{extension}"
    return name


@transaction.atomic
def attachment_add(*, proposal: Proposal, actor: User, upload: Any) -> Attachment:
    """Attach a file while the proposal may be edited: checked by size, then by content."""
    locked = lock_proposal(proposal)
    if not perms.can_edit(actor, locked):
        raise ActionNotAllowed("Only the proposal's authors can add files while it can be edited")
    if upload is None or not getattr(upload, "size", 0):
        raise ValidationError({"file": ["Select a file"]})
    limit = settings.ATTACHMENT_MAX_BYTES
    if upload.size > limit:
        raise ValidationError(
            {"file": [f"The file must be smaller than {limit // (1024 * 1024)}MB"]}
        )
    if locked.attachments.count() >= ATTACHMENTS_PER_PROPOSAL:
        raise ValidationError(
            {"file": [f"A proposal can have up to {ATTACHMENTS_PER_PROPOSAL} files"]}
        )
    upload.seek(0)
    content = upload.read()
    upload.seek(0)
    kind = filetype.guess(content)
    if kind is None or kind.mime not in ATTACHMENT_TYPES:
        raise ValidationError({"file": ["The selected file must be a PDF, ODT, DOCX, PNG or JPEG"]})
    name = _attachment_name(getattr(upload, "name", "") or "", ATTACHMENT_TYPES[kind.mime])
    attachment = Attachment(
        proposal=locked,
        original_name=name,
        content_type=kind.mime,
        size=len(content),
        uploaded_by=actor,
    )
    # Stored under a random name: the original name is only ever a download name.
    attachment.file.save(
        f"{secrets.token_hex(16)}.{ATTACHMENT_TYPES[kind.mime]}", ContentFile(content), save=False
    )
    attachment.save()
    audit(
        actor=actor,
        action="attach",
        obj=attachment,
        proposal=locked,
        changes={"file": (None, name)},
        audience=AuditAudience.EVERYONE if locked.status != Status.DRAFT else AuditAudience.AUTHORS,
    )
    return attachment


@transaction.atomic
def attachment_delete(*, attachment: Attachment, actor: User) -> None:
    locked = lock_proposal(attachment.proposal)
    if not perms.can_edit(actor, locked):
        raise ActionNotAllowed(
            "Only the proposal's authors can remove files while it can be edited"
        )
    name = attachment.original_name
    audit(
        actor=actor,
        action="detach",
        obj=attachment,
        proposal=locked,
        changes={"file": (name, None)},
        audience=AuditAudience.EVERYONE if locked.status != Status.DRAFT else AuditAudience.AUTHORS,
    )
    stored = attachment.file.name
    attachment.delete()
    # Remove the stored file only once the row's deletion has committed.
    storage = attachment.file.storage
    transaction.on_commit(lambda: storage.delete(stored) if stored else None)
