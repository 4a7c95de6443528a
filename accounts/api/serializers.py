"""Shapes of the accounts endpoints (issue 6). Input shape only: rules live in policy/managers."""

from __future__ import annotations

import datetime as dt
from typing import Any

from rest_framework import serializers

from accounts.choices import METHOD_CHOICES, STATUS_CHOICES, TIER_CHOICES
from accounts.models import BirthdateChangeRequest, ReRegistrationSignal, User
from safety_portal import rules

AUDIENCES = [a.value for a in rules.vocabulary.Audience]
MAX_ID = 2**63 - 1


def user_id_field(**kwargs: Any) -> serializers.IntegerField:
    """A user id in a request body (bounded so that no database integer can overflow)."""
    return serializers.IntegerField(min_value=1, max_value=MAX_ID, **kwargs)


class SignalSerializer(serializers.Serializer):
    # Checked by the manager (`clean_signals`); a plain string here so that the schema's enum
    # names for "kind" (threads) stay as other teams' generated clients know them.
    kind = serializers.CharField(
        max_length=10, help_text=", ".join(ReRegistrationSignal.Kind.values) + "."
    )
    digest = serializers.RegexField(
        r"^[0-9a-fA-F]{64}$",
        help_text="The integration's salted SHA-256 of the identifier (never the identifier).",
    )


class SignalsSerializer(serializers.Serializer):
    signals = SignalSerializer(many=True, min_length=1, max_length=5)


class UserCreateSerializer(serializers.Serializer):
    external_id = serializers.CharField(max_length=64, help_text="The app back end's id.")
    username = serializers.CharField(max_length=150)
    birthdate = serializers.DateField(help_text="YYYY-MM-DD; not kept if the age gate refuses.")
    country = serializers.CharField(
        min_length=2, max_length=2, help_text="ISO 3166-1 alpha-2 country of residence."
    )
    signals = SignalSerializer(
        many=True,
        required=False,
        max_length=5,
        help_text="Re-registration signals (POLICY.md §7.3): salted hashes of a device or "
        "account-recovery identifier. A match with a sign-up refused for age or an account under "
        "minimum-age review refuses the sign-up (403 `age_gate_retry`).",
    )


class UserSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    external_id = serializers.CharField(allow_null=True)
    age = serializers.IntegerField(help_text="Whole years completed today (POLICY.md §1).")
    tier = serializers.ChoiceField(choices=TIER_CHOICES)
    status = serializers.ChoiceField(choices=STATUS_CHOICES)

    @staticmethod
    def represent(user: User, *, today: dt.date) -> dict[str, Any]:
        return {
            "id": user.pk,
            "external_id": user.external_id,
            "age": user.age(today),
            "tier": str(user.tier(today)),
            "status": user.status,
        }


class CapabilitySerializer(serializers.Serializer):
    allowed = serializers.BooleanField()
    value = serializers.JSONField(
        allow_null=True,
        help_text="The effective value where the row has one: an audience (nobody, friends, "
        "everyone), a boolean, a status, minutes, or quiet hours {start, end} (local time).",
    )
    reason = serializers.CharField(
        allow_null=True, help_text="POLICY.md §3 reason code when refused or limited, else null."
    )
    dismissable = serializers.BooleanField(
        allow_null=True,
        help_text="Quiet hours and the screen-time reminder: whether the person may dismiss them "
        "(13-15 may not, POLICY.md §7.4); null for every other row.",
    )


class CapabilitiesSerializer(serializers.Serializer):
    age = serializers.IntegerField()
    tier = serializers.ChoiceField(choices=TIER_CHOICES)
    capabilities = serializers.DictField(
        child=CapabilitySerializer(),
        help_text="Every capability of POLICY.md §3: "
        + ", ".join(rules.capabilities.CAPABILITY_NAMES)
        + ".",
    )


def capability_value(value: object) -> object:
    """Plain JSON for a policy value (enums to strings, quiet hours to {start, end})."""
    if isinstance(value, tuple) and len(value) == 2 and all(isinstance(v, dt.time) for v in value):
        return {"start": value[0].strftime("%H:%M"), "end": value[1].strftime("%H:%M")}
    if isinstance(value, str):
        return str(value)
    return value


class SettingsPatchSerializer(serializers.Serializer):
    """Documentation of PATCH settings/: any subset; the manager validates names and values."""

    dm_setting = serializers.ChoiceField(choices=AUDIENCES, required=False)
    private_account = serializers.BooleanField(required=False)
    comment_setting = serializers.ChoiceField(choices=AUDIENCES, required=False)
    duet_setting = serializers.ChoiceField(choices=AUDIENCES, required=False)
    download_setting = serializers.BooleanField(required=False)
    suggest_account = serializers.BooleanField(required=False)
    connections_visible = serializers.BooleanField(required=False)
    guardian_approved_by = serializers.IntegerField(
        required=False,
        help_text="The id of the user's linked guardian who approved this change in the app; "
        "a 13-15-year-old's loosening needs it when a guardian is linked, and making their "
        "account public always does (POLICY.md §7.4).",
    )


class SettingsSerializer(serializers.Serializer):
    dm_setting = serializers.ChoiceField(choices=AUDIENCES)
    private_account = serializers.BooleanField()
    comment_setting = serializers.ChoiceField(choices=AUDIENCES)
    duet_setting = serializers.ChoiceField(choices=AUDIENCES)
    download_setting = serializers.BooleanField()
    suggest_account = serializers.BooleanField()
    connections_visible = serializers.BooleanField()


class BirthdateChangeCreateSerializer(serializers.Serializer):
    birthdate = serializers.DateField(help_text="The corrected birthdate, YYYY-MM-DD.")
    method = serializers.ChoiceField(choices=METHOD_CHOICES)
    evidence_reference = serializers.CharField(
        max_length=200, allow_blank=True, help_text="A reference to the evidence, never it."
    )
    reason = serializers.CharField(max_length=2000)


class BirthdateChangeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    user = serializers.IntegerField()
    status = serializers.ChoiceField(
        choices=BirthdateChangeRequest.Status.choices,
        help_text="applied: younger, in effect at once; pending: older, waits for staff review.",
    )
    method = serializers.ChoiceField(choices=METHOD_CHOICES)
    created_at = serializers.DateTimeField()
