"""Keep every write to messaging's tables behind the managers' doors (STYLE.md idea 2).

Django offers several ways round a manager method: `Model.save()` (admin forms, serializers,
`QuerySet.create`, related managers such as `thread.messages.create(...)`), `Model.delete()`,
`QuerySet.update()`, `bulk_create`, `bulk_update` and `QuerySet.delete()`. Here each of them refuses
with `UnguardedWrite` unless the call comes from a door in `managers/`, which passes `_door=True`
(or uses the `_door_*` QuerySet methods). A caller can still reach the database with raw SQL or by
calling `models.Model.save` on purpose; for those the PostgreSQL triggers in `triggers.py` refuse what the
database can judge (a message into a locked thread or from a non-participant, edited message
content, a silent unlock), and the send re-checks the policy against every participant, so a row
smuggled in this way is caught at the next send (the thread is locked).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, ClassVar, NoReturn

from django.db import models


class UnguardedWrite(PermissionError):
    """A write to a messaging table that did not go through its manager's door."""


def _refuse(model: type[models.Model], what: str) -> NoReturn:
    door = getattr(model, "DOORS", "its manager's methods")
    raise UnguardedWrite(
        f"{model._meta.label}: {what} is refused; write through {door} "
        "(they check POLICY.md §3 and write the audit entry)."
    )


class GuardedQuerySet(models.QuerySet):
    """A QuerySet whose write paths refuse; the managers use the `_door_*` methods."""

    def update(self, **kwargs: Any) -> NoReturn:
        _refuse(self.model, f"QuerySet.update({', '.join(sorted(kwargs))})")

    def bulk_create(self, objs: Iterable[models.Model], *args: Any, **kwargs: Any) -> NoReturn:
        _refuse(self.model, "bulk_create()")

    def bulk_update(
        self, objs: Iterable[models.Model], fields: Sequence[str], **kw: Any
    ) -> NoReturn:
        _refuse(self.model, f"bulk_update({', '.join(fields)})")

    def delete(self) -> NoReturn:
        _refuse(self.model, "QuerySet.delete()")

    def update_or_create(self, *args: Any, **kwargs: Any) -> NoReturn:
        _refuse(self.model, "update_or_create()")

    def get_or_create(self, *args: Any, **kwargs: Any) -> NoReturn:
        _refuse(self.model, "get_or_create()")

    # The doors' own write paths.
    def _door_update(self, **kwargs: Any) -> int:
        return super().update(**kwargs)

    def _door_bulk_create(self, objs: list[models.Model]) -> list[models.Model]:
        return super().bulk_create(objs)

    def _door_delete(self) -> tuple[int, dict[str, int]]:
        return super().delete()


class GuardedModel(models.Model):
    """`save()` and `delete()` refuse unless a door passes `_door=True`.

    `QuerySet.create()`, admin and serializer saves and related managers all end in `save()`, so
    they are refused here too.
    """

    DOORS: ClassVar[str] = "its manager's methods"

    class Meta:
        abstract = True

    def save(self, *args: Any, _door: bool = False, **kwargs: Any) -> None:
        if not _door:
            _refuse(type(self), "create()" if self._state.adding else "save()")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, _door: bool = False, **kwargs: Any) -> Any:
        if not _door:
            _refuse(type(self), "delete()")
        return super().delete(*args, **kwargs)
