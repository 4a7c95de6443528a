"""Guarded writes and read vocabulary of the integrations app.

Every change to a client (creation, revocation, scopes, throttle, token rotation) and to a webhook
endpoint is audited in the same transaction, with the acting person keyword-only and required.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from django.db import IntegrityError, models, transaction
from django.db.models import Q

from safety_portal.core import audit, clock
from safety_portal.core.errors import Conflict, DomainError

from .choices import WebhookEvent
from .scopes import parse_scopes

if TYPE_CHECKING:
    from .models import AgeGateAttempt, ApiClient, WebhookEndpoint

TOKEN_PREFIX = "spk_"  # noqa: S105 (a public marker, not a secret)
# spk_<12 hex: lookup prefix>_<43 url-safe chars: 256 random bits>
TOKEN_RE = re.compile(r"^spk_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$")
RATE_RE = re.compile(r"^[1-9][0-9]{0,6}/(s|sec|second|m|min|minute|h|hour|d|day)$")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _new_token() -> tuple[str, str]:
    prefix = secrets.token_hex(6)
    return prefix, f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"


def _check_rate(rate: str) -> str:
    rate = (rate or "").strip()
    if rate and not RATE_RE.match(rate):
        raise DomainError(
            "invalid",
            "The throttle rate is not valid.",
            fields={"throttle_rate": ["Use requests/period, for example 600/min or 20/s."]},
        )
    return rate


def _check_scopes(scopes: str | Iterable[str]) -> list[str]:
    try:
        return parse_scopes(scopes if isinstance(scopes, str) else list(scopes))
    except ValueError as exc:
        raise DomainError("invalid", str(exc), fields={"scopes": [str(exc)]}) from exc


class ApiClientQuerySet(models.QuerySet):
    def active(self) -> ApiClientQuerySet:
        return self.filter(is_active=True)

    def revoked(self) -> ApiClientQuerySet:
        return self.filter(is_active=False)


class ApiClientManager(models.Manager.from_queryset(ApiClientQuerySet)):  # type: ignore[misc]
    def create_client(
        self, *, name: str, scopes: str | Iterable[str], actor: object, throttle_rate: str = ""
    ) -> tuple[ApiClient, str]:
        """Create a client and return it with its token; the token exists nowhere else after this."""
        name = (name or "").strip()
        if not name or len(name) > 100:
            raise DomainError(
                "invalid", "The client needs a name.", fields={"name": ["1 to 100 characters."]}
            )
        parsed = _check_scopes(scopes)
        rate = _check_rate(throttle_rate)
        prefix, token = _new_token()
        try:
            with transaction.atomic():
                if self.filter(name=name).exists():
                    raise Conflict(
                        "duplicate", "A client with that name exists.", fields={"name": ["taken"]}
                    )
                client = self.create(
                    name=name,
                    token_prefix=prefix,
                    token_hash=hash_token(token),
                    scopes=parsed,
                    throttle_rate=rate,
                    created_at=clock.now(),
                )
                audit.record(
                    actor=actor,
                    action="integrations.api_client.created",
                    target=client,
                    after={"name": name, "scopes": parsed, "throttle_rate": rate},
                )
        except IntegrityError as exc:  # a concurrent creation with the same name
            raise Conflict("duplicate", "A client with that name exists.") from exc
        return client, token

    def authenticate(self, token: str) -> ApiClient | None:
        """The active client holding `token`, or None. One indexed query; constant-time compare."""
        match = TOKEN_RE.match(token or "")
        if match is None:
            return None
        client = self.filter(token_prefix=match.group(1), is_active=True).first()
        if client is None or not hmac.compare_digest(client.token_hash, hash_token(token)):
            return None
        return client

    def revoke(self, client: ApiClient, *, actor: object, reason: str) -> ApiClient:
        """Stop a client at once: its next request gets 401. Its records and log stay."""
        if not (reason or "").strip():
            raise DomainError("invalid", "A reason is required.", fields={"reason": ["required"]})
        with transaction.atomic():
            locked = self.select_for_update().get(pk=client.pk)
            if not locked.is_active:
                raise Conflict("already_revoked", "This client is already revoked.")
            locked.is_active = False
            locked.revoked_at = clock.now()
            locked.save(update_fields=["is_active", "revoked_at"])
            audit.record(
                actor=actor,
                action="integrations.api_client.revoked",
                target=locked,
                reason=reason,
                before={"is_active": True},
                after={"is_active": False},
            )
        client.is_active, client.revoked_at = locked.is_active, locked.revoked_at
        return locked

    def change_scopes(
        self, client: ApiClient, scopes: str | Iterable[str], *, actor: object, reason: str
    ) -> ApiClient:
        parsed = _check_scopes(scopes)
        return self._change(client, {"scopes": parsed}, actor=actor, reason=reason)

    def change_throttle_rate(
        self, client: ApiClient, rate: str, *, actor: object, reason: str
    ) -> ApiClient:
        return self._change(
            client, {"throttle_rate": _check_rate(rate)}, actor=actor, reason=reason
        )

    def rotate_token(self, client: ApiClient, *, actor: object, reason: str) -> str:
        """Issue a new token; the old one stops working when this commits."""
        prefix, token = _new_token()
        self._change(
            client,
            {"token_prefix": prefix, "token_hash": hash_token(token)},
            actor=actor,
            reason=reason,
            action="integrations.api_client.token_rotated",
        )
        return token

    def _change(
        self,
        client: ApiClient,
        values: dict[str, object],
        *,
        actor: object,
        reason: str,
        action: str = "integrations.api_client.changed",
    ) -> ApiClient:
        if not (reason or "").strip():
            raise DomainError("invalid", "A reason is required.", fields={"reason": ["required"]})
        with transaction.atomic():
            locked = self.select_for_update().get(pk=client.pk)
            if not locked.is_active:
                raise Conflict("already_revoked", "A revoked client cannot be changed.")
            before = {k: getattr(locked, k) for k in values}
            for name, value in values.items():
                setattr(locked, name, value)
            locked.save(update_fields=list(values))
            # Token parts are secrets' neighbours: the log says that they changed, never what to.
            shown = {k: v for k, v in values.items() if not k.startswith("token")}
            audit.record(
                actor=actor,
                action=action,
                target=locked,
                reason=reason,
                before={k: before[k] for k in shown},
                after=shown,
            )
        for name, value in values.items():
            setattr(client, name, value)
        return locked


class IdempotencyRecordManager(models.Manager):
    def purge(self, *, older_than: dt.datetime, actor: object) -> int:
        """Forget records older than `older_than` (their keys may then be used again)."""
        with transaction.atomic():
            deleted, _ = self.filter(created_at__lt=older_than).delete()
            if deleted:
                audit.record(
                    actor=actor,
                    action="integrations.idempotency.purged",
                    after={"deleted": deleted, "older_than": older_than},
                )
        return deleted


class AgeGateAttemptManager(models.Manager):
    def purge(self, *, older_than: dt.datetime, actor: object) -> int:
        """Forget refused sign-ups after their retention (data minimisation, GDPR art. 5(1)(e))."""
        with transaction.atomic():
            deleted, _ = self.filter(created_at__lt=older_than).delete()
            if deleted:
                audit.record(
                    actor=actor,
                    action="integrations.age_gate.purged",
                    after={"deleted": deleted, "older_than": older_than},
                )
        return deleted

    def latest_refusal(self, external_id: str, *, since: dt.datetime) -> AgeGateAttempt | None:
        """The most recent under-age refusal for `external_id` at or after `since`."""
        return (
            self.filter(external_id=external_id, outcome="under_minimum_age", created_at__gte=since)
            .order_by("-created_at")
            .first()
        )


class WebhookEndpointManager(models.Manager):
    def register(
        self, *, client: ApiClient, url: str, events: Iterable[str], actor: object
    ) -> tuple[WebhookEndpoint, str]:
        """Register a URL for events; returns the endpoint and its signing secret (shown once)."""
        events = sorted(set(events))
        errors: dict[str, list[str]] = {}
        parts = urlsplit(url or "")
        if parts.scheme not in {"http", "https"} or not parts.hostname or len(url) > 500:
            errors["url"] = ["An http(s) URL of at most 500 characters."]
        unknown = [e for e in events if e not in WebhookEvent.values]
        if unknown or not events:
            errors["events"] = [f"Choose from {', '.join(WebhookEvent.values)}."]
        if errors:
            raise DomainError("invalid", "The webhook could not be registered.", fields=errors)
        secret = secrets.token_hex(32)
        with transaction.atomic():
            if self.filter(client=client, url=url, is_active=True).exists():
                raise Conflict("duplicate", "This client already has a webhook for that URL.")
            endpoint = self.create(
                client=client, url=url, secret=secret, events=events, created_at=clock.now()
            )
            audit.record(
                actor=actor,
                action="integrations.webhook.registered",
                target=endpoint,
                after={"client": client.pk, "url": url, "events": events},
            )
        return endpoint, secret

    def disable(self, endpoint: WebhookEndpoint, *, actor: object, reason: str) -> None:
        if not (reason or "").strip():
            raise DomainError("invalid", "A reason is required.", fields={"reason": ["required"]})
        with transaction.atomic():
            locked = self.select_for_update().get(pk=endpoint.pk)
            if not locked.is_active:
                raise Conflict("already_disabled", "This webhook is already disabled.")
            locked.is_active = False
            locked.disabled_at = clock.now()
            locked.save(update_fields=["is_active", "disabled_at"])
            audit.record(
                actor=actor, action="integrations.webhook.disabled", target=locked, reason=reason
            )
        endpoint.is_active, endpoint.disabled_at = False, locked.disabled_at

    def subscribed(self, event_type: str) -> list[WebhookEndpoint]:
        """Active endpoints of active clients that asked for `event_type`.

        Filtered in Python: the table holds a handful of rows per client, and JSON containment is
        not portable to the embedded SQLite demo.
        """
        endpoints = self.filter(is_active=True, client__is_active=True).select_related("client")
        return [e for e in endpoints if event_type in e.events]


class WebhookDeliveryQuerySet(models.QuerySet):
    def due(self, *, at: dt.datetime) -> WebhookDeliveryQuerySet:
        """Deliveries that should be attempted now and that no sender holds."""
        return self.filter(
            Q(lease_until__isnull=True) | Q(lease_until__lt=at),
            status__in=["pending", "retrying"],
            next_attempt_at__lte=at,
        )


WebhookDeliveryManager = models.Manager.from_queryset(WebhookDeliveryQuerySet)
