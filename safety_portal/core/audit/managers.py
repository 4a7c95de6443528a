"""Read vocabulary for the audit log; every bulk write path refuses."""

from __future__ import annotations

from datetime import datetime
from typing import Any, NoReturn

from django.db import models


class AuditEntryQuerySet(models.QuerySet):
    def for_target(self, obj: models.Model) -> AuditEntryQuerySet:
        return self.filter(target_type=obj._meta.label_lower, target_id=str(obj.pk))

    def by_actor(self, kind: str, actor_id: str) -> AuditEntryQuerySet:
        return self.filter(actor_kind=kind, actor_id=actor_id)

    def since(self, when: datetime) -> AuditEntryQuerySet:
        return self.filter(created_at__gte=when)

    def action_prefix(self, prefix: str) -> AuditEntryQuerySet:
        return self.filter(action__startswith=prefix)

    # The log is append-only: refuse the QuerySet's own write paths too.
    def update(self, **kwargs: Any) -> NoReturn:
        raise PermissionError("Audit entries cannot be changed once written.")

    def delete(self) -> NoReturn:
        raise PermissionError("Audit entries cannot be deleted.")

    def bulk_create(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise PermissionError(
            "Audit entries are written by safety_portal.core.audit.record() only."
        )

    def bulk_update(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise PermissionError("Audit entries cannot be changed once written.")


AuditEntryManager = models.Manager.from_queryset(AuditEntryQuerySet)
