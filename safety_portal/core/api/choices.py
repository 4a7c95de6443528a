"""The API's fixed vocabularies, apart from the models so that the managers can use them too."""

from __future__ import annotations

from django.db import models


class WebhookEvent(models.TextChoices):
    """Events a client may subscribe to (issue 6: decision and case events)."""

    CASE_OPENED = "case.opened", "A case was opened"
    CASE_CLOSED = "case.closed", "A case was closed"
    DECISION_TAKEN = "decision.taken", "A decision was taken on a case"
    DECISION_REVERSED = "decision.reversed", "A decision was reversed on appeal"
    NOTICE_CREATED = "notice.created", "A notice was written for an app user (issue 12.2)"
