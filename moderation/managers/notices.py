"""Notices to users: what they are told of a decision, an appeal or a report, once each."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from django.db import models, transaction

from safety_portal.core import audit, clock

from ..notices import render

if TYPE_CHECKING:
    from accounts.models import User

    from ..models import (
        Notice,
    )


class NoticeQuerySet(models.QuerySet):
    def for_recipient(self, user: User) -> NoticeQuerySet:
        return self.filter(recipient=user).order_by("-created_at", "-id")

    def unread(self) -> NoticeQuerySet:
        return self.filter(read_at__isnull=True)

    def to_app_users(self) -> NoticeQuerySet:
        """Notices an app user is sent: staff alerts (case_overdue) are not theirs. The feed's
        view (migration 0010) has the same condition in SQL."""
        return self.exclude(kind="case_overdue")

    def staff_alerts(self) -> NoticeQuerySet:
        return self.filter(kind="case_overdue")


class NoticeManager(models.Manager.from_queryset(NoticeQuerySet)):  # type: ignore[misc]
    def send(
        self,
        *,
        recipient: User,
        kind: str,
        template: str,
        context: Mapping[str, Any],
        actor: object,
        code: str = "",
        **links: Any,
    ) -> Notice:
        """Render a notice for the recipient's age tier and store it as sent, audited. `code` is
        what the app keys on (the template's name unless the outcome refines it)."""
        rendered = render(template, recipient=recipient, context=context)
        with transaction.atomic():
            notice = self.create(
                recipient=recipient,
                kind=kind,
                template=template,
                code=code or template,
                tier=rendered.tier,
                subject=rendered.subject,
                body=rendered.body,
                created_at=clock.now(),
                **links,
            )
            audit.record(
                actor=actor,
                action="moderation.notice.sent",
                target=recipient,
                after={"notice": notice.pk, "kind": kind, "template": template},
            )
        return notice

    def send_many(
        self,
        *,
        recipients: Sequence[User],
        kind: str,
        template: str,
        context: Mapping[str, Any],
        actor: object,
        audit_target: models.Model,
        code: str = "",
        **links: Any,
    ) -> list[Notice]:
        """The same notice to many people (every reporter of a case), one audit entry for all:
        a flood of reports must not turn one decision into hundreds of audit entries."""
        if not recipients:
            return []
        now = clock.now()
        rows = []
        for person in recipients:
            rendered = render(template, recipient=person, context=context)
            rows.append(
                self.model(
                    recipient=person,
                    kind=kind,
                    template=template,
                    code=code or template,
                    tier=rendered.tier,
                    subject=rendered.subject,
                    body=rendered.body,
                    created_at=now,
                    **links,
                )
            )
        with transaction.atomic():
            created = self.bulk_create(rows)
            audit.record(
                actor=actor,
                action="moderation.notice.sent_to_many",
                target=audit_target,
                after={"kind": kind, "template": template, "recipients": len(created)},
            )
        return created
