"""Shapes of the moderation endpoints (issue 6). Input shape only: the services hold the rules."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from accounts.api.serializers import MAX_ID, user_id_field
from moderation.managers import EXPLANATION_MAX as REPORT_EXPLANATION_MAX
from moderation.models import Case, Decision, SubjectType
from moderation.services import EXPLANATION_MAX, FACTS_MAX
from safety_portal import rules
from safety_portal.core.api.flat_input import FlatInputSerializer
from safety_portal.rules.decisions import MAX_DAYS, NEEDS_CONFIRMATION, DecisionType
from safety_portal.rules.grounds import GROUND_CHOICES
from safety_portal.rules.vocabulary import Feature

CATEGORIES = [c.value for c in rules.sor_vocabulary.Category]
KEYWORDS = [k.value for k in rules.sor_vocabulary.CategoryKeyword]
SOURCE_TYPES = [s.value for s in rules.sor_vocabulary.SourceType]
DECISION_TYPES = [d.value for d in DecisionType]


class ReportCreateSerializer(FlatInputSerializer):
    reporter = user_id_field(
        required=False,
        allow_null=True,
        help_text="The app user who reported, if any (omit for integrations, trusted flaggers "
        "and automated rules).",
    )
    subject_type = serializers.ChoiceField(choices=SubjectType.choices)
    subject_id = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    category = serializers.ChoiceField(
        choices=CATEGORIES, help_text="A DSA statement category in force (POLICY.md §6)."
    )
    keywords = serializers.ListField(
        child=serializers.ChoiceField(choices=KEYWORDS), required=False, max_length=20
    )
    explanation = serializers.CharField(max_length=REPORT_EXPLANATION_MAX, allow_blank=True)
    source_type = serializers.ChoiceField(
        choices=SOURCE_TYPES,
        help_text="SOURCE_ARTICLE_16 (a user's notice), SOURCE_TRUSTED_FLAGGER (registered "
        "flaggers only), SOURCE_TYPE_OTHER_NOTIFICATION (an integration), SOURCE_VOLUNTARY "
        "(own-initiative detection).",
    )


class ReportResultSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    case_id = serializers.IntegerField()
    priority = serializers.IntegerField(help_text="The case's band: 1 (urgent) to 4 (low).")


class CaseDecisionSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    type = serializers.ChoiceField(choices=DECISION_TYPES)
    decided_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField(allow_null=True)
    overturned = serializers.BooleanField()


class CaseSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=Case.Status.choices)
    subject_type = serializers.ChoiceField(choices=SubjectType.choices)
    subject_id = serializers.IntegerField()
    subject_user = serializers.IntegerField(allow_null=True)
    category = serializers.CharField()
    keywords = serializers.ListField(child=serializers.CharField())
    priority = serializers.IntegerField(help_text="Band 1 (urgent) to 4 (low).")
    priority_score = serializers.IntegerField()
    involves_minor = serializers.BooleanField()
    trusted_flagger = serializers.BooleanField()
    report_count = serializers.IntegerField()
    reporter_count = serializers.IntegerField()
    opened_at = serializers.DateTimeField()
    due_at = serializers.DateTimeField()
    overdue = serializers.BooleanField()
    claimed = serializers.BooleanField()
    decided_at = serializers.DateTimeField(allow_null=True)
    active_strikes = serializers.IntegerField(
        allow_null=True, help_text="Active strikes of the subject user (issue 4)."
    )

    @staticmethod
    def represent(case: Case, *, now: Any) -> dict[str, Any]:
        subject_id = {
            "user": case.subject_user_id,
            "message": case.subject_message_id,
            "thread": case.subject_thread_id,
        }[case.subject_type]
        return {
            "id": case.pk,
            "status": case.status,
            "subject_type": case.subject_type,
            "subject_id": subject_id,
            "subject_user": case.subject_user_id,
            "category": case.category,
            "keywords": list(case.keywords),
            "priority": case.priority,
            "priority_score": case.priority_score,
            "involves_minor": case.involves_minor,
            "trusted_flagger": case.trusted_flagger,
            "report_count": case.report_count,
            "reporter_count": case.reporter_count,
            "opened_at": case.opened_at,
            "due_at": case.due_at,
            "overdue": case.status != "decided" and case.due_at <= now,
            "claimed": case.claimed_by_id is not None
            and case.claim_expires_at is not None
            and case.claim_expires_at > now,
            "decided_at": case.decided_at,
            "active_strikes": getattr(case, "active_strikes", None),
        }


class CaseDetailSerializer(CaseSerializer):
    decisions = CaseDecisionSummarySerializer(many=True)


class DecisionCreateSerializer(serializers.Serializer):
    moderator = user_id_field(
        help_text="The staff member taking the decision; they must hold the role for it (403 "
        "not_permitted otherwise). The case is claimed for them if nobody else holds it."
    )
    decision_type = serializers.ChoiceField(choices=DECISION_TYPES)
    facts = serializers.CharField(max_length=FACTS_MAX)
    ground = serializers.ChoiceField(choices=GROUND_CHOICES, required=False, allow_blank=True)
    explanation = serializers.CharField(
        max_length=EXPLANATION_MAX, required=False, allow_blank=True
    )
    days = serializers.IntegerField(min_value=1, max_value=MAX_DAYS, required=False)
    feature = serializers.ChoiceField(
        choices=[f.value for f in Feature], required=False, allow_blank=True
    )
    message_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        required=False,
        max_length=500,
    )
    target_user = user_id_field(required=False, allow_null=True)
    lock_thread = serializers.BooleanField(required=False)
    category = serializers.ChoiceField(choices=CATEGORIES, required=False)
    keywords = serializers.ListField(
        child=serializers.ChoiceField(choices=KEYWORDS), required=False, max_length=20
    )
    confirm = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Must be true for the decisions a moderator cannot undo ("
        + ", ".join(sorted(NEEDS_CONFIRMATION))
        + "): the API asks what the portal's decision form asks (400 on `confirm` otherwise).",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        """A termination or an under-age decision taken by a client must say it is meant, as the
        portal's form does (`rules.decisions.NEEDS_CONFIRMATION`): a wrong `decision_type` in a
        script must not end an account."""
        kind = attrs.get("decision_type")
        if kind in NEEDS_CONFIRMATION and not attrs.get("confirm"):
            raise serializers.ValidationError(
                {
                    "confirm": [
                        f'“{kind}” cannot be undone by a moderator: send "confirm": true '
                        "once the evidence has been checked."
                    ]
                }
            )
        return attrs


class DecisionResultSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    public_id = serializers.UUIDField()
    case = serializers.IntegerField()
    type = serializers.ChoiceField(choices=DECISION_TYPES)
    target_user = serializers.IntegerField(allow_null=True)
    ground = serializers.CharField(allow_blank=True)
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField(allow_null=True)
    decided_at = serializers.DateTimeField()
    strikes_after = serializers.IntegerField(allow_null=True)
    escalation_proposed = serializers.CharField(allow_blank=True)
    statement_puid = serializers.CharField(
        allow_null=True, help_text="The statement of reasons, for restricting decisions."
    )

    @staticmethod
    def represent(decision: Decision) -> dict[str, Any]:
        statement = getattr(decision, "statement", None)
        return {
            "id": decision.pk,
            "public_id": decision.public_id,
            "case": decision.case_id,
            "type": decision.type,
            "target_user": decision.target_user_id,
            "ground": decision.ground,
            "starts_at": decision.starts_at,
            "ends_at": decision.ends_at,
            "decided_at": decision.decided_at,
            "strikes_after": decision.strikes_after,
            "escalation_proposed": decision.escalation_proposed,
            "statement_puid": statement.puid if statement is not None else None,
        }


class StatementsSerializer(serializers.Serializer):
    statements = serializers.ListField(
        child=serializers.DictField(),
        help_text="Statements of reasons in the DSA Transparency Database schema (POLICY.md "
        "§6), oldest first, at most 100.",
    )
    next = serializers.URLField(allow_null=True, help_text="The next batch, if any.")


class AuditEntrySerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="The entry's id: its order of writing, set at commit.")
    seq = serializers.IntegerField(
        allow_null=True,
        help_text="Its position in the hash chain; null for the seconds until the chainer links it.",
    )
    created_at = serializers.DateTimeField()
    actor_kind = serializers.CharField()
    actor_id = serializers.CharField()
    actor_label = serializers.CharField()
    action = serializers.CharField()
    target_type = serializers.CharField(allow_blank=True)
    target_id = serializers.CharField(allow_blank=True)
    target_label = serializers.CharField(allow_blank=True)
    reason = serializers.CharField(allow_blank=True)
    before = serializers.JSONField(allow_null=True)
    after = serializers.JSONField(allow_null=True)
    request_id = serializers.CharField(allow_blank=True)
    hash = serializers.CharField(allow_null=True)
    prev_hash = serializers.CharField(allow_null=True)
