"""Who reports: trusted flaggers (DSA art. 22) and the standing of reporters who misuse reporting (art. 23)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from django.db import models, transaction

from safety_portal import rules
from safety_portal.core import audit, clock
from safety_portal.core.audit.actors import identify
from safety_portal.core.errors import DomainError

from .. import conf

if TYPE_CHECKING:
    from ..models import (
        TrustedFlagger,
    )


class TrustedFlaggerManager(models.Manager):
    def register(
        self, *, name: str, designated_by: str, client_identity: str = "", actor: object
    ) -> TrustedFlagger:
        """Record an organisation's trusted-flagger status (DSA art. 22), audited."""
        if not name.strip():
            raise DomainError("invalid", "A name is required.", fields={"name": ["required"]})
        with transaction.atomic():
            flagger = self.create(
                name=name.strip(),
                designated_by=designated_by.upper(),
                client_identity=client_identity,
                created_at=clock.now(),
            )
            audit.record(
                actor=actor,
                action="moderation.trusted_flagger.registered",
                target=flagger,
                after={"designated_by": flagger.designated_by, "client": client_identity},
            )
        return flagger

    def for_actor(self, actor: object) -> TrustedFlagger | None:
        """The active trusted flagger an API client files for, if any."""
        who = identify(actor)
        if who.kind != "api_client":
            return None
        return self.filter(client_identity=who.id, active=True).first()


class ReporterStandingManager(models.Manager):
    def is_marked(self, user_id: int) -> bool:
        return self.filter(reporter_id=user_id, marked_at__isnull=False).exists()

    def record_outcomes(
        self, reporter_ids: Sequence[int], *, upheld: bool, actor: object, undo: bool = False
    ) -> list[int]:
        """Count decided reports per reporter and (un)mark them under DSA art. 23.

        `undo` takes outcomes back (a no-violation decision overturned on appeal). Returns the ids
        whose mark changed. Each mark change is audited; the counts are plain bookkeeping of
        decisions that are themselves audited.
        """
        changed: list[int] = []
        if not reporter_ids:
            return changed
        now = clock.now()
        counts: dict[int, int] = {}
        for rid in reporter_ids:
            counts[rid] = counts.get(rid, 0) + 1
        with transaction.atomic():
            existing = {
                s.reporter_id: s
                for s in self.select_for_update()
                .filter(reporter_id__in=list(counts))
                .order_by("pk")
            }
            missing = [rid for rid in counts if rid not in existing]
            if missing:
                self.bulk_create(
                    [self.model(reporter_id=rid, updated_at=now) for rid in missing],
                    ignore_conflicts=True,
                )
                existing = {
                    s.reporter_id: s
                    for s in self.select_for_update().filter(reporter_id__in=list(counts))
                }
            min_rejected = int(conf.value("MODERATION_REPORTER_MARK_MIN_REJECTED"))
            ratio = float(conf.value("MODERATION_REPORTER_MARK_RATIO"))
            for rid, n in counts.items():
                standing = existing[rid]
                step = -n if undo else n
                if upheld:
                    standing.upheld = max(0, standing.upheld + step)
                else:
                    standing.rejected = max(0, standing.rejected + step)
                marked = rules.decisions.reporter_is_low_credibility(
                    upheld=standing.upheld,
                    rejected=standing.rejected,
                    min_rejected=min_rejected,
                    ratio=ratio,
                )
                was_marked = standing.marked_at is not None
                standing.updated_at = now
                if marked != was_marked:
                    standing.marked_at = now if marked else None
                    changed.append(rid)
                    audit.record(
                        actor=actor,
                        action="moderation.reporter." + ("marked" if marked else "unmarked"),
                        target=standing.reporter,
                        reason="DSA art. 23: share of rejected reports",
                        after={"upheld": standing.upheld, "rejected": standing.rejected},
                    )
                standing.save(update_fields=["upheld", "rejected", "marked_at", "updated_at"])
        return changed
