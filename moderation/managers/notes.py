"""Case notes: the moderators' own timeline of a case."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models, transaction

from safety_portal import rules
from safety_portal.core import audit, clock
from safety_portal.core.errors import DomainError
from safety_portal.rules.casework import Action

from ._common import NOTE_MAX, refuse_unless_allowed, require_perm

if TYPE_CHECKING:
    from accounts.models import User

    from ..models import (
        Case,
        CaseNote,
    )


class CaseNoteManager(models.Manager):
    def add(self, case: Case, *, actor: User, body: str) -> CaseNote:
        """A note on the case timeline, audited; it keeps the author's claim alive."""
        require_perm(actor, rules.decisions.PERM_NOTE, doing="add notes")
        body = body.strip()
        if not body or len(body) > NOTE_MAX:
            raise DomainError(
                "invalid", "A note of 1 to 5000 characters.", fields={"body": ["1-5000 characters"]}
            )
        with transaction.atomic():
            refuse_unless_allowed(case, Action.NOTE, actor=actor)
            note = self.create(case=case, author=actor, body=body, created_at=clock.now())
            type(case).objects.touch(case, actor=actor)
            audit.record(
                actor=actor,
                action="moderation.case.note_added",
                target=case,
                after={"note": note.pk, "length": len(body)},
            )
        return note
