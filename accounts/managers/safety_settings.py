"""Safety settings: a user's own choices, changed only within the tier's ceiling (POLICY.md §3).

Which values a tier may hold and which of two values is the stricter are `rules.safety_settings`'
answers; this manager parses the input, asks those rules, writes the change and its audit entry in
one transaction, and then (audit first, event second: see `accounts/events.py`) tells messaging
when a setting became stricter.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from django.db import models, transaction

from safety_portal import rules
from safety_portal.core import audit, clock
from safety_portal.core.errors import DomainError, PolicyViolation

from ..events import restrictions_tightened

if TYPE_CHECKING:
    from ..models import SafetySettings, User


class SafetySettingsManager(models.Manager):
    def change(self, user: User, *, actor: object, **values: Any) -> SafetySettings:
        """Change a user's own safety settings; a loosening beyond the tier ceiling is refused.

        POLICY.md §3 (DM setting values per tier, locked duet/download for 13-15). Unknown setting
        names or values are bad input (DomainError); a tier refusal is a PolicyViolation.
        """
        if not values:
            raise DomainError("invalid", "No setting was given.")
        unknown = sorted(set(values) - set(rules.safety_settings.SETTING_NAMES))
        if unknown:
            raise DomainError(
                "invalid", "Unknown settings.", fields={n: ["unknown setting"] for n in unknown}
            )
        user_model = self.model._meta.get_field("user").related_model
        parsed = _parse_settings(values)
        with transaction.atomic():
            # The tier comes from the birthdate as it is now, under the same lock a birthdate
            # change takes, so a correction in flight cannot slip a looser value past the ceiling.
            birthdate = (
                user_model.objects.select_for_update()
                .filter(pk=user.pk)
                .values_list("birthdate", flat=True)
                .first()
            )
            if birthdate is None:
                raise DomainError("invalid", "Staff accounts have no safety settings.")
            tier = rules.ages.tier_on(birthdate, clock.today())
            for name, value in parsed.items():
                refusal = rules.safety_settings.check_setting(tier, name, value)
                if refusal is not None:
                    raise PolicyViolation(
                        refusal, f"{name}={value!s} is not allowed for {tier.value}."
                    )
            current = self.select_for_update().get(user=user)
            before = {n: _plain(getattr(current, n)) for n in parsed}
            changed = {n: v for n, v in parsed.items() if _plain(getattr(current, n)) != _plain(v)}
            if not changed:
                return current
            for name, value in changed.items():
                setattr(current, name, _plain(value))
            current.save(update_fields=[*changed, "updated_at"])
            # Threads may need locking when a setting became stricter: messaging listens.
            if rules.safety_settings.tightens(before, changed):
                restrictions_tightened.send(sender=type(user), user=user, actor=actor)
            audit.record(
                actor=actor,
                action="accounts.settings.changed",
                target=user,
                before={n: before[n] for n in changed},
                after={n: _plain(v) for n, v in changed.items()},
            )
        return current


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
