"""Messaging endpoints of the API (issue 6): follows, blocks, threads, participants, messages.

Thin: each view checks the input's shape and calls the one door of `messaging.managers`
(`Connection.objects.follow/unfollow`, `Block.objects.block`, `Thread.objects.start/
add_participant`, `Message.objects.send`, `Message.objects.visible_to`), passing the API client as
the actor; refusals come back as `PolicyViolation` with the POLICY.md §3 reason code (403).
"""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.api.serializers import MAX_ID
from messaging.models import Block, Connection, GroupInvite, Message, Thread
from safety_portal.core.api.pagination import NewestFirstCursorPagination
from safety_portal.core.api.schema import BodyOnDeleteSchema, api_doc
from safety_portal.core.api.scopes import Scope
from safety_portal.core.api.views import ApiGenericView, ApiView, validated
from safety_portal.core.errors import DomainError

from .serializers import (
    BlockResultSerializer,
    BlockSerializer,
    FollowResultSerializer,
    FollowSerializer,
    InviteAnswerSerializer,
    InviteCreateSerializer,
    InviteSerializer,
    MessageCreateSerializer,
    MessageSerializer,
    ParticipantCreateSerializer,
    ThreadCreateSerializer,
    ThreadSerializer,
)

SOCIAL = ["social"]
THREADS = ["threads"]


def _thread_or_404(pk: int) -> Thread:
    return get_object_or_404(Thread.objects.all(), pk=pk)


class FollowView(ApiView):
    scopes = {"POST": Scope.SOCIAL_WRITE, "DELETE": Scope.SOCIAL_WRITE}
    schema = BodyOnDeleteSchema()

    @api_doc(
        summary="Follow someone",
        scope=Scope.SOCIAL_WRITE,
        description=(
            "Idempotent: 201 when the follow is new, 200 when it already existed. Refused "
            "across a block (403 `dm_blocked`). `friends` is true when the two now follow each "
            "other."
        ),
        request=FollowSerializer,
        responses={201: FollowResultSerializer, 200: FollowResultSerializer},
        writes=True,
        tags=SOCIAL,
    )
    def post(self, request: Request) -> Response:
        data = validated(FollowSerializer, request.data)
        existed = Connection.objects.filter(
            follower_id=data["follower"], followee_id=data["followee"]
        ).exists()
        row = Connection.objects.follow(
            follower=data["follower"], followee=data["followee"], actor=self.client
        )
        body = {
            "follower": row.follower_id,
            "followee": row.followee_id,
            "friends": Connection.objects.are_friends(row.follower_id, row.followee_id),
            "created_at": row.created_at,
        }
        return Response(
            FollowResultSerializer(body).data,
            status=status.HTTP_200_OK if existed else status.HTTP_201_CREATED,
        )

    @api_doc(
        summary="Stop following someone",
        scope=Scope.SOCIAL_WRITE,
        description=(
            "The body names the pair. 204 when the follow ended, 404 when there was none. Ending "
            "a friendship locks the threads the policy would now refuse (POLICY.md §3)."
        ),
        request=FollowSerializer,
        responses={204: OpenApiResponse(description="The follow ended.")},
        writes=True,
        errors=[404],
        tags=SOCIAL,
    )
    def delete(self, request: Request) -> Response:
        data = validated(FollowSerializer, request.data)
        ended = Connection.objects.unfollow(
            follower=data["follower"], followee=data["followee"], actor=self.client
        )
        if not ended:
            raise NotFound("There is no such follow.")
        return Response(status=status.HTTP_204_NO_CONTENT)


class BlockView(ApiView):
    scopes = {"POST": Scope.SOCIAL_WRITE}

    @api_doc(
        summary="Block someone",
        scope=Scope.SOCIAL_WRITE,
        description=(
            "Idempotent: 201 when new, 200 when the block already existed. Ends all contact both "
            "ways and locks every thread the two share (POLICY.md §3)."
        ),
        request=BlockSerializer,
        responses={201: BlockResultSerializer, 200: BlockResultSerializer},
        writes=True,
        tags=SOCIAL,
    )
    def post(self, request: Request) -> Response:
        data = validated(BlockSerializer, request.data)
        existed = Block.objects.filter(
            blocker_id=data["blocker"], blocked_id=data["blocked"]
        ).exists()
        row = Block.objects.block(
            blocker=data["blocker"], blocked=data["blocked"], actor=self.client
        )
        body = {"blocker": row.blocker_id, "blocked": row.blocked_id, "created_at": row.created_at}
        return Response(
            BlockResultSerializer(body).data,
            status=status.HTTP_200_OK if existed else status.HTTP_201_CREATED,
        )


class ThreadCreateView(ApiView):
    scopes = {"POST": Scope.MESSAGES_WRITE}

    @api_doc(
        summary="Start a thread",
        scope=Scope.MESSAGES_WRITE,
        description=(
            "A direct thread (one other person) or a group. Refused with 403 and the POLICY.md "
            "§3 reason code (`dm_sender_under_16`, `dm_not_friends`, `group_add_not_friend`, "
            "...). There is one direct thread per pair: starting it again answers 200 with it."
        ),
        request=ThreadCreateSerializer,
        responses={201: ThreadSerializer, 200: ThreadSerializer},
        writes=True,
        tags=THREADS,
    )
    def post(self, request: Request) -> Response:
        data = validated(ThreadCreateSerializer, request.data)
        participants = data["participants"]
        existed = (
            data.get("kind", "direct") == "direct"
            and len(participants) == 1
            and Thread.objects.direct_between(data["creator"], participants[0]).exists()
        )
        thread = Thread.objects.start(
            creator=data["creator"],
            participants=participants,
            kind=data.get("kind"),
            title=data.get("title", ""),
            actor=self.client,
        )
        return Response(
            ThreadSerializer(ThreadSerializer.represent(thread)).data,
            status=status.HTTP_200_OK if existed else status.HTTP_201_CREATED,
        )


class ParticipantCreateView(ApiView):
    scopes = {"POST": Scope.MESSAGES_WRITE}

    @api_doc(
        summary="Add someone to a group thread",
        scope=Scope.MESSAGES_WRITE,
        description=(
            "`added_by` must be a participant (403 `not_a_participant`). Refused with 403 and "
            "the POLICY.md §3 reason code (`group_member_under_16`, `group_add_not_friend`, "
            "`thread_locked`, ...); a 16-17-year-old is never added, only invited (403 "
            "`group_invite_required`, POLICY.md §7.4); 409 when the person is already in the "
            "thread."
        ),
        request=ParticipantCreateSerializer,
        responses={201: ThreadSerializer},
        writes=True,
        errors=[404, 409],
        tags=THREADS,
    )
    def post(self, request: Request, pk: int) -> Response:
        thread = _thread_or_404(pk)
        data = validated(ParticipantCreateSerializer, request.data)
        thread = Thread.objects.add_participant(
            thread, user=data["user"], added_by=data["added_by"], actor=self.client
        )
        return Response(
            ThreadSerializer(ThreadSerializer.represent(thread)).data,
            status=status.HTTP_201_CREATED,
        )


class InviteCreateView(ApiView):
    scopes = {"POST": Scope.MESSAGES_WRITE}

    @api_doc(
        summary="Invite someone to a group thread",
        scope=Scope.MESSAGES_WRITE,
        description=(
            "How a 16-17-year-old joins a group (POLICY.md §7.4): the invite is checked like an "
            "add (403 with the reason code, e.g. `group_add_not_friend`), and again when it is "
            "accepted. 409 `already_invited` while an earlier invite is pending."
        ),
        request=InviteCreateSerializer,
        responses={201: InviteSerializer},
        writes=True,
        errors=[404, 409],
        tags=THREADS,
    )
    def post(self, request: Request, pk: int) -> Response:
        thread = _thread_or_404(pk)
        data = validated(InviteCreateSerializer, request.data)
        invite = GroupInvite.objects.send(
            thread=thread, invitee=data["invitee"], invited_by=data["invited_by"], actor=self.client
        )
        return Response(InviteSerializer(invite).data, status=status.HTTP_201_CREATED)


class InviteAnswerView(ApiView):
    scopes = {"POST": Scope.MESSAGES_WRITE}
    answer = ""

    @api_doc(
        summary="Accept or decline a group invite",
        scope=Scope.MESSAGES_WRITE,
        description=(
            "Only the invitee answers (403 `not_the_invitee`). Accepting checks the rules again "
            "as of now and adds them to the group (403 with the reason code if something changed "
            "since the invite); 409 `invite_answered` for an invite already answered."
        ),
        request=InviteAnswerSerializer,
        responses={200: InviteSerializer},
        writes=True,
        errors=[404, 409],
        tags=THREADS,
    )
    def post(self, request: Request, pk: int) -> Response:
        invite = get_object_or_404(GroupInvite.objects.all(), pk=pk)
        data = validated(InviteAnswerSerializer, request.data)
        door = (
            GroupInvite.objects.accept if self.answer == "accept" else GroupInvite.objects.decline
        )
        invite = door(invite, invitee=data["invitee"], actor=self.client)
        return Response(InviteSerializer(invite).data)


class MessageListCreateView(ApiGenericView):
    scopes = {"GET": Scope.MESSAGES_READ, "POST": Scope.MESSAGES_WRITE}
    pagination_class = NewestFirstCursorPagination
    serializer_class = MessageSerializer

    @api_doc(
        summary="Messages of a thread, newest first",
        scope=Scope.MESSAGES_READ,
        description=(
            "Visible messages only (hidden or removed by moderation are left out), cursor-"
            "paginated. With `as_user`, what that participant sees (`Message.objects."
            "visible_to`: messages since they joined); 404 when they are not in the thread."
        ),
        parameters=[
            OpenApiParameter(
                "as_user",
                int,
                required=False,
                description="Read as this participant.",
            )
        ],
        responses={200: MessageSerializer(many=True)},
        errors=[400, 404],
        tags=THREADS,
    )
    def get(self, request: Request, pk: int) -> Response:
        thread = _thread_or_404(pk)
        as_user = request.query_params.get("as_user")
        if as_user is None:
            queryset = Message.objects.in_thread(thread).visible()
        else:
            viewer = _user_id(as_user)
            if not thread.participants.filter(user_id=viewer).exists():
                raise NotFound("No such thread for this user.")
            queryset = Message.objects.visible_to(viewer).filter(thread=thread)
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(MessageSerializer(page, many=True).data)

    @api_doc(
        summary="Send a message",
        scope=Scope.MESSAGES_WRITE,
        description=(
            "Refused with 403 and the POLICY.md §3 reason code (`dm_not_friends`, "
            "`dm_recipient_setting`, `account_restricted`, `thread_locked`, ...); 403 "
            "`not_a_participant` when the sender is not in the thread. Empty, whitespace-only "
            "or over-long bodies are 400."
        ),
        request=MessageCreateSerializer,
        responses={201: MessageSerializer},
        writes=True,
        errors=[404],
        tags=THREADS,
    )
    def post(self, request: Request, pk: int) -> Response:
        thread = _thread_or_404(pk)
        data = validated(MessageCreateSerializer, request.data)
        message = Message.objects.send(
            sender=data["sender"], thread=thread, body=data["body"], actor=self.client
        )
        return Response(MessageSerializer(message).data, status=status.HTTP_201_CREATED)


def _user_id(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if not 1 <= value <= MAX_ID:
        raise DomainError("invalid", "as_user must be a user id.", fields={"as_user": ["invalid"]})
    return value
