"""API clients, idempotency records, refused sign-up attempts and outbound webhooks (issue 6).

Secrets: an API token is shown once and only its SHA-256 hash is stored (a token has 256 bits of
entropy, so a fast hash is enough; a slow password hash would only cost every request). A webhook
secret is stored as it is, because the portal must sign with it; it is never written to the audit log
and never shown again after registration.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q

from safety_portal.core.audit.actors import ActorIdentity

from .choices import WebhookEvent
from .managers import (
    AgeGateAttemptManager,
    ApiClientManager,
    IdempotencyRecordManager,
    WebhookDeliveryManager,
    WebhookEndpointManager,
)


class ApiClient(models.Model):
    """Another internal service calling the API. It acts in the audit log as "api_client"."""

    name = models.CharField(max_length=100, unique=True)
    token_prefix = models.CharField(
        max_length=16, unique=True, help_text="Public lookup part of the token (not secret)."
    )
    token_hash = models.CharField(max_length=64, help_text="SHA-256 of the whole token, hex.")
    scopes = models.JSONField(default=list, help_text="Scopes of issue 6, e.g. users:read.")
    throttle_rate = models.CharField(
        max_length=20,
        blank=True,
        help_text="Requests per period for this client, e.g. 600/min; empty = the default.",
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiClientManager()

    class Meta:
        verbose_name = "API client"
        constraints = [
            models.CheckConstraint(
                condition=Q(is_active=True, revoked_at__isnull=True)
                | Q(is_active=False, revoked_at__isnull=False),
                name="api_client_revoked_iff_inactive",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    # DRF treats the authenticated principal as `request.user`; an API client is never anonymous.
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def audit_identity(self) -> ActorIdentity:
        return ActorIdentity(kind="api_client", id=str(self.pk), label=self.name)

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes


class IdempotencyRecord(models.Model):
    """The answer a client got for an `Idempotency-Key`; replayed for the same key and body.

    Scoped to the client: two clients using the same key never see each other's records.
    """

    # No index of its own: the unique (client, key) index serves every look-up by client, and
    # each index is written by every POST with a key (issue 13).
    client = models.ForeignKey(
        ApiClient, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField()
    response_body = models.JSONField()
    created_at = models.DateTimeField(db_index=True)

    objects = IdempotencyRecordManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["client", "key"], name="idempotency_key_per_client"),
        ]

    def __str__(self) -> str:
        return f"{self.client_id}:{self.key}"


class AgeGateAttempt(models.Model):
    """A sign-up the age gate refused, kept WITHOUT the birthdate (issue 6; POLICY.md §2, §4).

    Only what the 24-hour retry rule needs: who (the app's external id), where, when, and why. A
    retry for the same external id that would pass within the window is refused as
    `age_gate_retry` and flagged for staff review (POLICY.md §4: a signal that an account may be
    younger than declared raises a flag; a flag never changes an age on its own). Kept 90 days.
    """

    class Outcome(models.TextChoices):
        UNDER_MINIMUM_AGE = "under_minimum_age", "Under the minimum age"
        AGE_GATE_RETRY = "age_gate_retry", "Retried with an older birthdate"

    external_id = models.CharField(max_length=64)
    country = models.CharField(max_length=2)
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    client = models.ForeignKey(ApiClient, on_delete=models.PROTECT, related_name="+")
    flagged = models.BooleanField(
        default=False,
        help_text="A retry flagged for staff review; an account created later for this external "
        "id gets a moderation age flag.",
    )
    created_at = models.DateTimeField()

    objects = AgeGateAttemptManager()

    class Meta:
        indexes = [
            models.Index(fields=["external_id", "-created_at"], name="agegate_external_created"),
        ]

    def __str__(self) -> str:
        return f"{self.outcome} for {self.external_id}"


class WebhookEndpoint(models.Model):
    """Where a client wants its events sent, and the secret the portal signs them with."""

    client = models.ForeignKey(ApiClient, on_delete=models.PROTECT, related_name="webhooks")
    url = models.URLField(max_length=500)
    secret = models.CharField(max_length=64, help_text="HMAC-SHA256 signing key; shown once.")
    events = models.JSONField(default=list)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField()
    disabled_at = models.DateTimeField(null=True, blank=True)

    objects = WebhookEndpointManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["client", "url"],
                condition=Q(is_active=True),
                name="one_active_webhook_per_client_url",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.client} → {self.url}"


class WebhookDelivery(models.Model):
    """One event for one endpoint, and how sending it went (shown in the portal)."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for the first attempt"
        RETRYING = "retrying", "Failed, will retry"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Gave up after the last retry"

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.PROTECT, related_name="+")
    event_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    event_type = models.CharField(max_length=40, choices=WebhookEvent.choices)
    payload = models.JSONField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    lease_until = models.DateTimeField(
        null=True, blank=True, help_text="A sender holds this delivery until then."
    )
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()

    objects = WebhookDeliveryManager()

    class Meta:
        verbose_name_plural = "webhook deliveries"
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="webhook_due"),
            models.Index(fields=["endpoint", "-created_at"], name="webhook_endpoint_created"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="delivered") | Q(delivered_at__isnull=False),
                name="delivered_webhook_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} → {self.endpoint_id} ({self.status})"
