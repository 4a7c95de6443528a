"""Shapes of the messaging endpoints (issue 6). Input shape only: the managers hold the rules."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from accounts.api.serializers import user_id_field
from messaging.limits import MAX_BODY_LENGTH, MAX_GROUP_PARTICIPANTS, MAX_TITLE_LENGTH
from messaging.models import Message, Thread


class FollowSerializer(serializers.Serializer):
    follower = user_id_field()
    followee = user_id_field()


class FollowResultSerializer(serializers.Serializer):
    follower = serializers.IntegerField()
    followee = serializers.IntegerField()
    friends = serializers.BooleanField(help_text="Both now follow each other (POLICY.md §3).")
    created_at = serializers.DateTimeField()


class BlockSerializer(serializers.Serializer):
    blocker = user_id_field()
    blocked = user_id_field()


class BlockResultSerializer(serializers.Serializer):
    blocker = serializers.IntegerField()
    blocked = serializers.IntegerField()
    created_at = serializers.DateTimeField()


class ThreadCreateSerializer(serializers.Serializer):
    creator = user_id_field()
    participants = serializers.ListField(
        child=user_id_field(),
        min_length=1,
        max_length=MAX_GROUP_PARTICIPANTS,
        help_text="The other people: one for a direct thread, more for a group.",
    )
    kind = serializers.ChoiceField(
        choices=Thread.Kind.choices,
        required=False,
        help_text="Default: direct with one other person, group with more.",
    )
    title = serializers.CharField(
        max_length=MAX_TITLE_LENGTH, required=False, allow_blank=True, help_text="Groups only."
    )


class ThreadSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=Thread.Kind.choices)
    title = serializers.CharField(allow_blank=True)
    creator = serializers.IntegerField()
    participants = serializers.ListField(child=serializers.IntegerField())
    locked = serializers.BooleanField()
    locked_reason = serializers.CharField(
        allow_blank=True, help_text="A POLICY.md §3 reason code or a staff code when locked."
    )
    created_at = serializers.DateTimeField()

    @staticmethod
    def represent(thread: Thread) -> dict[str, Any]:
        participants = list(
            thread.participants.order_by("joined_at", "id").values_list("user_id", flat=True)
        )
        return {
            "id": thread.pk,
            "kind": thread.kind,
            "title": thread.title,
            "creator": thread.creator_id,
            "participants": participants,
            "locked": thread.locked,
            "locked_reason": thread.locked_reason,
            "created_at": thread.created_at,
        }


class ParticipantCreateSerializer(serializers.Serializer):
    user = user_id_field()
    added_by = user_id_field(help_text="A participant of the group who adds `user`.")


class InviteCreateSerializer(serializers.Serializer):
    invitee = user_id_field()
    invited_by = user_id_field(help_text="A participant of the group, a friend of `invitee`.")


class InviteAnswerSerializer(serializers.Serializer):
    invitee = user_id_field(help_text="The person invited: only they answer.")


class InviteSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    thread = serializers.IntegerField(source="thread_id")
    invitee = serializers.IntegerField(source="invitee_id")
    invited_by = serializers.IntegerField(source="invited_by_id")
    status = serializers.CharField(help_text="pending, accepted or declined.")
    created_at = serializers.DateTimeField()
    decided_at = serializers.DateTimeField(allow_null=True)


class MessageCreateSerializer(serializers.Serializer):
    sender = user_id_field()
    body = serializers.CharField(
        max_length=MAX_BODY_LENGTH, trim_whitespace=False, help_text="Plain text."
    )


class MessageSerializer(serializers.ModelSerializer):
    thread = serializers.IntegerField(source="thread_id")
    sender = serializers.IntegerField(source="sender_id")

    class Meta:
        model = Message
        fields = ["id", "thread", "sender", "body", "created_at"]
