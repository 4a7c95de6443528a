"""Messaging records in the admin: read-only, and never a message body.

Bodies are read only through `messaging.services.read_messages_for_staff`, with a reason, audited
(the portal's case workspace does that). Every write to these models has a manager door that
checks POLICY.md §3; the admin offers none of them, so nothing here can walk around the policy.
"""

from __future__ import annotations

from django.contrib import admin

from safety_portal.core.admin_site import ReadOnlyAdmin, site

from .models import Block, Connection, GroupInvite, Message, RefusedContactAttempt, Thread


@admin.register(Thread, site=site)
class ThreadAdmin(ReadOnlyAdmin):
    list_display = ["id", "kind", "creator", "locked", "locked_reason", "created_at"]
    list_filter = ["locked"]
    list_select_related = ["creator"]
    ordering = ["-pk"]
    search_fields = ["=id"]


@admin.register(Message, site=site)
class MessageAdmin(ReadOnlyAdmin):
    list_display = ["id", "thread_id", "sender", "moderation_state", "created_at"]
    list_filter = ["moderation_state"]
    list_select_related = ["sender"]
    ordering = ["-pk"]
    search_fields = ["=id", "=thread__id"]
    # The body is left out on purpose: reading it needs a reason and leaves an audit entry.
    fields = ["thread", "sender", "created_at", "moderation_state", "moderation_changed_at"]
    readonly_fields = fields

    def get_queryset(self, request):  # type: ignore[no-untyped-def]
        return super().get_queryset(request).defer("body")


@admin.register(Connection, site=site)
class ConnectionAdmin(ReadOnlyAdmin):
    list_display = ["id", "follower", "followee", "created_at"]
    list_select_related = ["follower", "followee"]
    ordering = ["-pk"]


@admin.register(Block, site=site)
class BlockAdmin(ReadOnlyAdmin):
    list_display = ["id", "blocker", "blocked", "created_at"]
    list_select_related = ["blocker", "blocked"]
    ordering = ["-pk"]


@admin.register(GroupInvite, site=site)
class GroupInviteAdmin(ReadOnlyAdmin):
    list_display = ["id", "thread", "invitee", "invited_by", "status", "created_at", "decided_at"]
    list_filter = ["status"]
    list_select_related = ["thread", "invitee", "invited_by"]
    ordering = ["-pk"]


@admin.register(RefusedContactAttempt, site=site)
class RefusedContactAttemptAdmin(ReadOnlyAdmin):
    list_display = ["id", "sender", "recipient", "action", "reason", "at"]
    list_filter = ["reason"]
    list_select_related = ["sender", "recipient"]
    ordering = ["-pk"]
