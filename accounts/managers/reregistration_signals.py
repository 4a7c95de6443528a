"""Re-registration signals (POLICY.md §7.3): record them, match a sign-up against them, and delete
them when their time is up. A signal is a salted hash the integration made; nothing here can turn
it back into a device or an address."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from django.db import models, transaction
from django.db.models import Q

from safety_portal import rules
from safety_portal.core import audit, clock
from safety_portal.core.errors import DomainError

if TYPE_CHECKING:
    pass

DIGEST = re.compile(r"^[0-9a-f]{64}$")
MAX_SIGNALS = 5  # per sign-up or report: a device and a recovery identifier, with room to spare


def clean_signals(signals: Iterable[Mapping[str, str]]) -> list[tuple[str, str]]:
    """(kind, digest) pairs, or a DomainError naming what is wrong and what is expected."""
    pairs = []
    for i, signal in enumerate(signals):
        kind = str(signal.get("kind", ""))
        digest = str(signal.get("digest", "")).strip().lower()
        if kind not in ("device", "recovery"):
            raise DomainError(
                "invalid",
                "Unknown signal kind.",
                fields={f"signals[{i}].kind": ["device, recovery"]},
            )
        if not DIGEST.match(digest):
            raise DomainError(
                "invalid",
                "A signal is the integration's salted SHA-256 of the identifier, never the "
                "identifier itself.",
                fields={f"signals[{i}].digest": ["64 hexadecimal characters"]},
            )
        pairs.append((kind, digest))
    if len(pairs) > MAX_SIGNALS:
        raise DomainError(
            "invalid", "Too many signals.", fields={"signals": [f"at most {MAX_SIGNALS}"]}
        )
    return sorted(set(pairs))


def _any_of(pairs: list[tuple[str, str]]) -> Q:
    condition = Q(pk__in=[])
    for kind, digest in pairs:
        condition |= Q(kind=kind, digest=digest)
    return condition


class ReRegistrationSignalManager(models.Manager["ReRegistrationSignal"]):
    def matching(self, pairs: list[tuple[str, str]], *, on: dt.date) -> models.QuerySet:
        """Signals still kept on `on` that any of `pairs` matches."""
        if not pairs:
            return self.none()
        return self.filter(_any_of(pairs), keep_until__gte=on)

    def record(
        self,
        pairs: list[tuple[str, str]],
        *,
        cause: str,
        country: str,
        actor: object,
        target: models.Model | None = None,
    ) -> int:
        """Keep each signal until the appeal window plus 30 days from today; a signal seen again
        is kept from its latest sighting. One audit entry names how many, never the hashes."""
        if not pairs:
            return 0
        today, now = clock.today(), clock.now()
        keep_until = rules.minimum_age.signal_kept_until(today)
        with transaction.atomic():
            for kind, digest in pairs:
                signal, created = self.select_for_update().get_or_create(
                    kind=kind,
                    digest=digest,
                    defaults={
                        "cause": cause,
                        "country": country,
                        "recorded_at": now,
                        "keep_until": keep_until,
                    },
                )
                if not created:
                    signal.cause, signal.recorded_at = cause, now
                    signal.keep_until = max(signal.keep_until, keep_until)
                    signal.save(update_fields=["cause", "recorded_at", "keep_until"])
            audit.record(
                actor=actor,
                action="accounts.reregistration_signals.recorded",
                target=target,
                target_type=None if target is not None else "accounts.reregistrationsignal",
                reason=f"POLICY.md §7.3: {cause}",
                after={
                    "signals": len(pairs),
                    "kinds": sorted({k for k, _ in pairs}),
                    "keep_until": keep_until,
                },
            )
        return len(pairs)

    def purge_expired(self, *, actor: object, today: dt.date | None = None) -> int:
        """Delete every signal whose time is up (POLICY.md §7.3: "nothing else"); one audit entry."""
        today = today or clock.today()
        with transaction.atomic():
            deleted, _ = self.filter(keep_until__lt=today).delete()
            if deleted:
                audit.record(
                    actor=actor,
                    action="accounts.reregistration_signals.purged",
                    target_type="accounts.reregistrationsignal",
                    reason="POLICY.md §7.3 retention: the appeal window plus 30 days",
                    after={"deleted": deleted, "before": today},
                )
        return deleted
