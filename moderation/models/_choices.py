"""The DSA vocabularies as model choices, shared by the moderation models."""

from __future__ import annotations

from django.db import models

from accounts.choices import choices_of
from safety_portal import rules

CATEGORY_CHOICES = choices_of(rules.sor_vocabulary.Category)


SOURCE_CHOICES = choices_of(rules.sor_vocabulary.SourceType)


DECISION_CHOICES = choices_of(rules.decisions.DecisionType)


class SubjectType(models.TextChoices):
    USER = "user", "Account"
    MESSAGE = "message", "Message"
    THREAD = "thread", "Thread"
