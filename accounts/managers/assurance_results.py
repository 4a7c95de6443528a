"""Age-assurance results (POLICY.md §7.2): recorded once per assurer and key, never changed.

What a result proves and whether it disagrees with the stored birthdate are `rules.assurance`'s
answers; this manager validates, writes, applies a younger result's protection through the doors
that already own it (a birthdate-change request, a status change), announces a disagreement for
moderation's staff flag (`events.assurance_disagrees`), and writes its audit entry last (D3).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import uuid
from typing import TYPE_CHECKING, Any

from django.apps import apps
from django.db import IntegrityError, models, transaction

from safety_portal import rules
from safety_portal.core import audit, clock
from safety_portal.core.audit.actors import identify
from safety_portal.core.errors import Conflict, DomainError

from ..events import assurance_disagrees

if TYPE_CHECKING:
    from ..models import AgeAssuranceResult, User

_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")  # visible ASCII, as the API's Idempotency-Key
_REFERENCE = re.compile(r"^(?:[a-z][a-z0-9_-]{0,15}:)?(?P<uuid>[0-9A-Fa-f-]{32,36})$")
_PAYLOAD = ("method", "age_range", "over_age", "is_over", "estimate", "region", "confidence")
_Status = rules.vocabulary.AccountStatus
# Statuses a younger estimate moves to under_age_review (as the minimum-age sweep's).
_REVIEWABLE = (_Status.ACTIVE, _Status.RESTRICTED, _Status.SUSPENDED)


def reference_errors(reference: object) -> list[str]:
    """The assurer's id for its check: a UUID, optionally after a short namespace ("yoti:…").

    Only that shape is accepted, so that the one free-text field of a result cannot carry a
    document number, a name or an image (POLICY.md §7.2: never stored)."""
    if reference == "":
        return []
    match = _REFERENCE.match(reference) if isinstance(reference, str) else None
    if match is not None:
        try:
            uuid.UUID(match["uuid"])
            return []
        except ValueError:
            pass
    return ["A UUID (optionally 'namespace:<uuid>'): never a document number or any evidence."]


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class AgeAssuranceResultQuerySet(models.QuerySet):
    """Results are append-only: bulk changes are refused (a PostgreSQL trigger refuses UPDATE)."""

    def of_user(self, user: User | int) -> AgeAssuranceResultQuerySet:
        return self.filter(user=user)

    def update(self, **kwargs: Any) -> int:
        raise TypeError("Assurance results are append-only.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise TypeError("Assurance results are append-only.")

    def bulk_update(self, *args: Any, **kwargs: Any) -> int:
        raise TypeError("Assurance results are append-only.")

    def erase_for_closure(self) -> int:
        """Delete these results in the transaction that erases a closed child's account, after
        `accounts.erasure.sanction_erasure` (the only DELETE the trigger lets through, D8)."""
        deleted, _ = models.QuerySet.delete(self)
        return deleted

    def as_rules(self) -> dict[int, tuple[rules.assurance.AssuranceResult, ...]]:
        """Each user's results as the rules read them, newest first."""
        found: dict[int, list[rules.assurance.AssuranceResult]] = {}
        for row in self.order_by("user_id", "-assured_at", "-id"):
            found.setdefault(row.user_id, []).append(row.as_rule())
        return {user_id: tuple(results) for user_id, results in found.items()}


class AgeAssuranceResultManager(models.Manager.from_queryset(AgeAssuranceResultQuerySet)):  # type: ignore[misc]
    def record(
        self,
        *,
        user: User,
        method: str,
        actor: object,
        idempotency_key: str,
        assured_at: dt.datetime | None = None,
        age_range: str | None = None,
        over_age: int | None = None,
        is_over: bool | None = None,
        estimate: float | None = None,
        region: str | None = None,
        confidence: float | None = None,
        reference: str = "",
    ) -> tuple[AgeAssuranceResult, bool]:
        """Record one result for an app user (POLICY.md §7.2); returns (result, created).

        Idempotent per assurer (the actor) and key: the same key with the same result returns
        the first row (created False); with another result it is a Conflict
        `idempotency_key_reused`. Bad input is a DomainError with field errors, and writes
        nothing. A result that says younger applies at once (`rules.assurance.Protection`) and
        flags staff; one that says older flags staff and changes nothing. The audit entry
        `accounts.assurance.recorded` is the transaction's last write.
        """
        payload: dict[str, Any] = {
            "method": method,
            "age_range": age_range,
            "over_age": over_age,
            "is_over": is_over,
            "estimate": estimate,
            "region": region,
            "confidence": confidence,
        }
        now = clock.now()
        assured_at = now if assured_at is None else assured_at
        errors = rules.assurance.result_errors(**payload)
        if invalid_reference := reference_errors(reference):
            errors["reference"] = invalid_reference
        if not isinstance(idempotency_key, str) or not _KEY.match(idempotency_key):
            errors["idempotency_key"] = ["1 to 255 visible ASCII characters."]
        if not isinstance(assured_at, dt.datetime) or assured_at.tzinfo is None:
            errors["assured_at"] = ["A date-time with its time zone."]
        elif assured_at > now:
            errors["assured_at"] = ["Not in the future."]
        elif user.birthdate is not None and clock.date_of(assured_at) < user.birthdate:
            errors["assured_at"] = ["Before the user was born."]
        if user.birthdate is None:
            errors["user"] = ["Only app users (with a birthdate) have an age to assure."]
        if errors:
            raise DomainError("invalid", "The assurance result is invalid.", fields=errors)
        who = identify(actor)
        digest = key_hash(idempotency_key)
        try:
            with transaction.atomic():
                return self._record(user, payload, who, digest, assured_at, reference, actor)
        except IntegrityError:
            # A concurrent twin with the same key committed first: answer as a replay.
            existing = self._by_key(who, digest)
            if existing is None:
                raise
            return self._replay(existing, payload, user), False

    def _by_key(self, who: Any, digest: str) -> AgeAssuranceResult | None:
        return self.filter(
            assurer_kind=who.kind, assurer_id=who.id, idempotency_key_hash=digest
        ).first()

    @staticmethod
    def _replay(
        existing: AgeAssuranceResult, payload: dict[str, Any], user: User
    ) -> AgeAssuranceResult:
        stored = {name: getattr(existing, name) for name in _PAYLOAD}
        stored["age_range"] = stored["age_range"] or None
        stored["region"] = stored["region"] or None
        if stored != payload or existing.user_id != user.pk:
            raise Conflict(
                "idempotency_key_reused",
                "This idempotency key was already used with a different result.",
            )
        return existing

    def _record(
        self,
        user: User,
        payload: dict[str, Any],
        who: Any,
        digest: str,
        assured_at: dt.datetime,
        reference: str,
        actor: object,
    ) -> tuple[AgeAssuranceResult, bool]:
        user_model = self.model._meta.get_field("user").related_model
        locked = user_model.objects.select_for_update().get(pk=user.pk)
        existing = self._by_key(who, digest)
        if existing is not None:
            return self._replay(existing, payload, user), False
        country = str(locked.country)
        rule = rules.assurance.AssuranceResult(
            assured_on=clock.date_of(assured_at), **{k: v for k, v in payload.items()}
        )
        comparison = rules.assurance.compare_with_birthdate(rule, locked.birthdate, country=country)
        result = self.create(
            user=locked,
            **{
                k: ("" if v is None and k in ("age_range", "region") else v)
                for k, v in payload.items()
            },
            reference=reference,
            assurer_kind=who.kind,
            assurer_id=who.id,
            assurer_label=who.label,
            idempotency_key_hash=digest,
            assured_at=assured_at,
            recorded_at=clock.now(),
            direction=comparison.direction.value,
        )
        applied = self._protect(locked, result, comparison, actor=actor)
        if comparison.flags_staff:
            assurance_disagrees.send(
                sender=user_model,
                user=locked,
                actor=actor,
                direction=comparison.direction.value,
                evidence={
                    "source": "age_assurance",
                    "result": result.pk,
                    "method": result.method,
                    "says": rule.says(),
                    "direction": comparison.direction.value,
                    "stored_age": comparison.stored_age,
                    "protection": applied,
                },
            )
        audit.record(
            actor=actor,
            action="accounts.assurance.recorded",
            target=locked,
            after={
                "result": result.pk,
                "method": result.method,
                "says": rule.says(),
                "confidence": result.confidence,
                "direction": comparison.direction.value,
                "protection": applied,
            },
        )
        return result, True

    def _protect(
        self,
        user: User,
        result: AgeAssuranceResult,
        comparison: rules.assurance.Comparison,
        *,
        actor: object,
    ) -> str:
        """Apply a younger result's protection at once (POLICY.md §7.2); returns what was done.

        A range or a "no" bit moves the birthdate through a birthdate-change request (younger
        applies at once, and below the minimum age the account goes to under_age_review); while
        another request is pending that door is closed ("decide it first"), so the staff flag
        carries the result instead. An estimate proves no birthdate: below the country's floor
        (value + buffer) the account goes to under_age_review, otherwise staff decide.
        """
        protection = comparison.protection
        if protection is rules.assurance.Protection.YOUNGER_BIRTHDATE:
            requests = apps.get_model("accounts", "BirthdateChangeRequest").objects
            if requests.filter(user=user, status="pending").exists():
                return "not_applied_request_pending"
            requests.submit(
                user=user,
                new_birthdate=comparison.younger_birthdate,
                method=result.method,
                evidence_reference=f"assurance-result:{result.pk}",
                reason=f"An {result.method} result says {result.as_rule().says()} (POLICY.md §7.2).",
                actor=actor,
            )
            return protection.value
        if protection is rules.assurance.Protection.UNDER_AGE_REVIEW:
            if user.status not in _REVIEWABLE:
                return "already_" + str(user.status)
            # The same review, windows and notice as a sweep's (§7.3).
            # body import: the sweep module is built on these managers (models imports them)
            from ..minimum_age_sweep import open_review

            open_review(
                user,
                actor=actor,
                reason=f"An age estimate of {result.estimate} is below the minimum age of "
                f"{user.country} with its buffer (POLICY.md §7.2, §7.3).",
                found_by="estimate",
            )
        return protection.value
