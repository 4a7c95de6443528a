"""Safety settings: a user's own choices, changed only within the tier's ceiling (POLICY.md §3).

Which values a tier may hold and which of two values is the stricter are `rules.safety_settings`'
answers; this manager parses the input, asks those rules, writes the change and its audit entry in
one transaction, and then (audit first, event second: see `accounts/events.py`) tells messaging
when a setting became stricter.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, models, transaction

from safety_portal import rules
from safety_portal.core import audit, clock
from safety_portal.core.constraints import constraint_of
from safety_portal.core.errors import DomainError, PolicyViolation
from safety_portal.core.outbox.models import UserNotice

from ..events import restrictions_tightened
from ..setting_notices import policy_change_notice
from ..triggers import SETTINGS_CEILING_CONSTRAINT

if TYPE_CHECKING:
    from ..models import SafetySettings, User


class SafetySettingsManager(models.Manager):
    def _locked_birthdate(self, user: User) -> dt.date | None:
        """The birthdate as it is now, under the lock a birthdate change takes, so that a
        correction in flight cannot slip a looser value past the tier's ceiling."""
        user_model = self.model._meta.get_field("user").related_model
        return (
            user_model.objects.select_for_update()
            .filter(pk=user.pk)
            .values_list("birthdate", flat=True)
            .first()
        )

    def change(
        self,
        user: User,
        *,
        actor: object,
        guardian_approved_by: User | int | None = None,
        **values: Any,
    ) -> SafetySettings:
        """Change a user's own safety settings within the tier's ceiling (POLICY.md §3, §7.4).

        Unknown setting names or values are bad input (DomainError); a tier refusal, and a
        13-15-year-old's loosening that needs a linked guardian's approval, are PolicyViolations
        (`rules.safety_settings.loosening_refusal`). `guardian_approved_by` names the guardian who
        approved the change in the app: it counts only when that person is the user's linked
        guardian (an active link), and the audit entry names them.
        """
        if not values:
            raise DomainError("invalid", "No setting was given.")
        unknown = sorted(set(values) - set(rules.safety_settings.SETTING_NAMES))
        if unknown:
            raise DomainError(
                "invalid", "Unknown settings.", fields={n: ["unknown setting"] for n in unknown}
            )
        parsed = _parse_settings(values)
        with transaction.atomic():
            birthdate = self._locked_birthdate(user)
            if birthdate is None:
                raise DomainError("invalid", "Staff accounts have no safety settings.")
            tier = rules.ages.tier_on(birthdate, clock.today())
            guardian_ids = _linked_guardian_ids(user)
            approver = _approver_id(guardian_approved_by, guardian_ids)
            current = self.select_for_update().get(user=user)
            for name, value in parsed.items():
                refusal = rules.safety_settings.loosening_refusal(
                    tier,
                    name,
                    value,
                    getattr(current, name),
                    guardian_linked=bool(guardian_ids),
                    guardian_approved=approver is not None,
                )
                if refusal is not None:
                    raise PolicyViolation(refusal, _refusal_message(refusal, name, value, tier))
            before = {n: _plain(getattr(current, n)) for n in parsed}
            changed = {n: v for n, v in parsed.items() if _plain(getattr(current, n)) != _plain(v)}
            if not changed:
                return current
            for name, value in changed.items():
                setattr(current, name, _plain(value))
            fields = [*changed, "updated_at"]
            if "private_account" in changed:
                # The mark that a guardian approved this account being public (POLICY.md §7.4).
                going_public = (
                    not current.private_account and tier is rules.vocabulary.Tier.YOUNG_TEEN
                )
                current.guardian_approved_public_at = clock.now() if going_public else None
                fields.append("guardian_approved_public_at")
            try:
                current.save(update_fields=fields)
            except IntegrityError as exc:
                # The database reads the tier from CURRENT_DATE; Python from `clock.today()` in
                # TIME_ZONE. Around midnight on a birthday they can differ by a day.
                if constraint_of(exc) == SETTINGS_CEILING_CONSTRAINT:
                    raise PolicyViolation(
                        rules.vocabulary.Reason.SETTING_ABOVE_TIER_CEILING,
                        "The database refused a setting above the tier ceiling.",
                    ) from exc
                raise
            # Threads may need locking when a setting became stricter: messaging listens.
            if rules.safety_settings.tightens(before, changed):
                restrictions_tightened.send(sender=type(user), user=user, actor=actor)
            audit.record(
                actor=actor,
                action="accounts.settings.changed",
                target=user,
                before={n: before[n] for n in changed},
                after={n: _plain(v) for n, v in changed.items()},
                **({"reason": f"approved by linked guardian {approver}"} if approver else {}),
            )
        return current

    def move_within_rules(self, user: User, *, actor: object, policy: str) -> dict[str, Any]:
        """Bring one account's stored settings within the rules in force today, audited, with a
        notice in plain language (POLICY.md §7.4: "existing accounts move to the new defaults by an
        audited migration with a notice; nothing loosens"). `policy` names the rule change (it
        keys the notice, so a user hears about one change once).

        `rules.safety_settings.within_rules` says what the row must hold; only what differs is
        written. Returns the settings that moved ({} when the row already complies: running it
        twice changes nothing). Messaging re-checks the user's threads, since every move tightens.
        """
        with transaction.atomic():
            moved = self.write_within_rules(user)
            if moved is None:
                return {}
            tier, before, after = moved
            restrictions_tightened.send(sender=type(user), user=user, actor=actor)
            subject, body = policy_change_notice(tier, after)
            UserNotice.objects.get_or_create(
                user=user,
                key=f"policy:{policy}",
                defaults={
                    "kind": UserNotice.Kind.POLICY_CHANGE,
                    "tier": tier.value,
                    "subject": subject,
                    "body": body,
                    "created_at": clock.now(),
                },
            )
            audit.record(
                actor=actor,
                action="accounts.settings.moved_within_rules",
                target=user,
                reason=policy,
                before=before,
                after=after,
            )
        return after

    def write_within_rules(
        self, user: User
    ) -> tuple[rules.vocabulary.Tier, dict[str, Any], dict[str, Any]] | None:
        """Write only what `rules.safety_settings.within_rules` moves for the user's tier today,
        under the row locks; the caller audits it and tells messaging (POLICY.md §3, §7.4).

        Returns the tier and the moved settings before and after, or None when nothing moved (an
        account without a birthdate is left alone: nothing reads its settings). The database
        checks the written row against the tier ceiling (accounts/triggers.py), and the move is
        what keeps a row legal when a birthdate is corrected to a younger tier.
        """
        birthdate = self._locked_birthdate(user)
        if birthdate is None:
            return None
        tier = rules.ages.tier_on(birthdate, clock.today())
        current = self.select_for_update().filter(user=user).first()
        if current is None:
            return None
        approved = (
            frozenset({"private_account"})
            if current.guardian_approved_public_at is not None
            else frozenset()
        )
        target = rules.safety_settings.within_rules(
            current.as_policy(), tier, guardian_approved=approved
        )
        after = {
            n: _plain(getattr(target, n))
            for n in rules.safety_settings.SETTING_NAMES
            if _plain(getattr(target, n)) != _plain(getattr(current, n))
        }
        if not after:
            return None
        before = {n: _plain(getattr(current, n)) for n in after}
        for name, value in after.items():
            setattr(current, name, value)
        current.save(update_fields=[*after, "updated_at"])
        return tier, before, after


def _linked_guardian_ids(user: User) -> set[int]:
    """The user's guardians by an active link (POLICY.md §5)."""
    return set(user.guardians.active().values_list("guardian_id", flat=True))


def _approver_id(approved_by: User | int | None, guardian_ids: set[int]) -> int | None:
    """The approving guardian's id, or None; an approval by anyone but a linked guardian is refused
    (not ignored): the app said a guardian approved, and it was not this user's guardian."""
    if approved_by is None:
        return None
    approver = approved_by if isinstance(approved_by, int) else approved_by.pk
    if approver not in guardian_ids:
        raise DomainError(
            "invalid",
            "The approval must come from the user's linked guardian.",
            fields={"guardian_approved_by": ["not this user's linked guardian"]},
        )
    return approver


def _refusal_message(
    reason: rules.vocabulary.Reason, name: str, value: object, tier: rules.vocabulary.Tier
) -> str:
    if reason is rules.vocabulary.Reason.SETTING_NEEDS_GUARDIAN:
        return (
            f"{name}={_plain(value)} needs the approval of the user's linked guardian "
            f"({tier.value}); send it again with guardian_approved_by once they approve."
        )
    return f"{name}={_plain(value)!s} is not allowed for {tier.value}."


def _parse_settings(values: Mapping[str, Any]) -> dict[str, Any]:
    """Audiences become `Audience` members, booleans stay booleans; anything else is a field error."""
    parsed: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for name, value in values.items():
        if name in rules.safety_settings.AUDIENCE_SETTINGS:
            try:
                parsed[name] = rules.vocabulary.Audience(value)
            except ValueError:
                errors[name] = [f"{value!r} is not one of nobody, friends, everyone."]
        elif isinstance(value, bool):
            parsed[name] = value
        else:
            errors[name] = [f"{value!r} is not true or false."]
    if errors:
        raise DomainError("invalid", "Some settings have invalid values.", fields=errors)
    return parsed


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, rules.vocabulary.Audience) else value
