"""Shapes of the accounts endpoints (issue 6). Input shape only: rules live in policy/managers."""

from __future__ import annotations

import datetime as dt
from typing import Any

from rest_framework import serializers

from accounts.choices import (
    AGE_RANGE_CHOICES,
    METHOD_CHOICES,
    STATUS_CHOICES,
    TIER_CHOICES,
)
from accounts.models import AgeAssuranceResult, BirthdateChangeRequest, ReRegistrationSignal, User
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
    required_strength = serializers.CharField(
        allow_null=True,
        help_text="With reason assurance_required: the rung of the age-assurance ladder still "
        "missing (facial_estimation: that method, payment_card or guardian_vouch or stronger; "
        "id_document: id_document or age_token), POLICY.md §7.2; else null.",
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


class AssuranceResultCreateSerializer(serializers.Serializer):
    """An age-assurance result (POLICY.md §7.2). Only these fields: anything else (a document
    number, an image, a name) is refused with a field error, never stored."""

    # Every method is a choice (one enum in the schema); self_declared is refused by the manager.
    method = serializers.ChoiceField(choices=METHOD_CHOICES)
    age_range = serializers.ChoiceField(
        choices=AGE_RANGE_CHOICES, required=False, allow_null=True, help_text="app_store_signal."
    )
    region = serializers.CharField(
        required=False,
        allow_null=True,
        max_length=6,
        help_text="app_store_signal: the US state (ISO 3166-2, e.g. US-UT) whose law applies.",
    )
    over_age = serializers.IntegerField(
        required=False,
        allow_null=True,
        help_text="id_document, age_token, payment_card, "
        "guardian_vouch: the N of the 'over N' proof.",
    )
    is_over = serializers.BooleanField(
        required=False, allow_null=True, help_text="The 'over N' bit."
    )
    estimate = serializers.FloatField(
        required=False, allow_null=True, help_text="facial_estimation: the estimated age, 0-120."
    )
    confidence = serializers.FloatField(required=False, allow_null=True, help_text="0 to 1.")
    reference = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=64,
        help_text="The assurer's id for its check: a UUID ('namespace:<uuid>' allowed).",
    )
    assured_at = serializers.DateTimeField(
        required=False, help_text="When the check ran; default now. Not in the future."
    )

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError(
                    {
                        name: [
                            "Unknown field: a result never carries evidence or a document number."
                        ]
                        for name in unknown
                    }
                )
        return super().to_internal_value(data)


class AssuranceResultSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    user = serializers.IntegerField()
    method = serializers.ChoiceField(choices=METHOD_CHOICES)
    age_range = serializers.CharField(allow_null=True)
    region = serializers.CharField(allow_null=True)
    over_age = serializers.IntegerField(allow_null=True)
    is_over = serializers.BooleanField(allow_null=True)
    estimate = serializers.FloatField(allow_null=True)
    confidence = serializers.FloatField(allow_null=True)
    reference = serializers.CharField()
    assurer = serializers.CharField(help_text="The service that assured it.")
    assured_at = serializers.DateTimeField()
    recorded_at = serializers.DateTimeField()
    direction = serializers.CharField(
        help_text="agrees, younger (applied at once, staff flagged) or older (staff flagged, "
        "nothing changed), against the stored birthdate when recorded."
    )

    @staticmethod
    def represent(result: AgeAssuranceResult) -> dict[str, Any]:
        return AssuranceResultSerializer(
            {
                "id": result.pk,
                "user": result.user_id,
                "method": result.method,
                "age_range": result.age_range or None,
                "region": result.region or None,
                "over_age": result.over_age,
                "is_over": result.is_over,
                "estimate": result.estimate,
                "confidence": result.confidence,
                "reference": result.reference,
                "assurer": result.assurer_label,
                "assured_at": result.assured_at,
                "recorded_at": result.recorded_at,
                "direction": result.direction,
            }
        ).data
