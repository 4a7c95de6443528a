"""Escalations to the team that reports child sexual exploitation to the competent authority
(issue 12.6). Opened by a decision or a confirmed flag (`rules.child_safety`), one open per case;
seen only by staff with `moderation.view_childsafetyescalation` (the Child safety lead role)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from .decisions import Decision
from .follow_up import Flag
from .reporting import Case


class ChildSafetyEscalation(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "Waiting to be reported"
        REPORTED = "reported", "Reported to the authority"

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="child_safety")
    decision = models.ForeignKey(
        Decision, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    flag = models.ForeignKey(
        Flag, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    trigger = models.CharField(max_length=200, help_text="What opened it, in words.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    opened_at = models.DateTimeField()
    reported_at = models.DateTimeField(null=True, blank=True)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    authority_reference = models.CharField(
        max_length=100, blank=True, help_text="The authority's report number (e.g. a CyberTip id)."
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["case"], condition=Q(status="open"), name="one_open_escalation_per_case"
            ),
        ]
        indexes = [models.Index(fields=["status", "opened_at"], name="child_safety_queue")]
        permissions = [
            ("report_child_safety", "Can export child-safety report packages and mark them sent")
        ]

    def __str__(self) -> str:
        return f"Child-safety escalation {self.pk} (case {self.case_id}, {self.status})"
