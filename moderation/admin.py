"""Moderation records in the admin: read-only browsers that stay fast at millions of rows.

No admin path edits a decision, a case, a report or a statement in place: decisions are taken in
the portal's case workspace through `moderation.services.decide` (audited, with their effects and
statement of reasons), appeals through `decide_appeal`, flags through `confirm_flag` / `dismiss`.
"""

from __future__ import annotations

from django.contrib import admin

from safety_portal.core.admin_site import ReadOnlyAdmin, site

from .models import (
    Appeal,
    Case,
    Decision,
    Flag,
    Notice,
    Report,
    StatementOfReasons,
    Strike,
    TrustedFlagger,
)


@admin.register(Case, site=site)
class CaseAdmin(ReadOnlyAdmin):
    list_display = ["id", "priority", "status", "subject_key", "category", "due_at", "claimed_by"]
    list_filter = ["status", "priority", "involves_minor"]
    list_select_related = ["claimed_by"]
    ordering = ["-pk"]
    search_fields = ["=id", "=subject_key"]
    raw_id_fields = ["subject_user", "subject_message", "subject_thread", "claimed_by"]


@admin.register(Report, site=site)
class ReportAdmin(ReadOnlyAdmin):
    list_display = ["id", "case_id", "reporter_kind", "category", "outcome", "created_at"]
    list_filter = ["reporter_kind", "outcome"]
    ordering = ["-pk"]
    search_fields = ["=id", "=case__id"]
    raw_id_fields = ["case", "reporter", "subject_user", "subject_message", "subject_thread"]


@admin.register(Decision, site=site)
class DecisionAdmin(ReadOnlyAdmin):
    list_display = ["id", "type", "case_id", "target_user", "decided_by", "decided_at"]
    list_filter = ["type"]
    list_select_related = ["target_user", "decided_by"]
    ordering = ["-pk"]
    search_fields = ["=id", "=case__id"]
    raw_id_fields = ["case", "target_user", "decided_by"]


@admin.register(Appeal, site=site)
class AppealAdmin(ReadOnlyAdmin):
    list_display = ["id", "kind", "status", "appellant", "reviewer", "filed_at"]
    list_filter = ["status", "kind"]
    list_select_related = ["appellant", "reviewer"]
    ordering = ["-pk"]
    raw_id_fields = ["decision", "appellant", "reviewer"]


@admin.register(Flag, site=site)
class FlagAdmin(ReadOnlyAdmin):
    list_display = ["id", "kind", "status", "user", "signal_count", "raised_at"]
    list_filter = ["status", "kind"]
    list_select_related = ["user"]
    ordering = ["-pk"]
    raw_id_fields = ["user", "case", "reviewed_by"]


@admin.register(Strike, site=site)
class StrikeAdmin(ReadOnlyAdmin):
    list_display = ["id", "user", "created_at", "expires_at", "removed_at"]
    list_select_related = ["user"]
    ordering = ["-pk"]
    raw_id_fields = ["user", "decision"]


@admin.register(StatementOfReasons, site=site)
class StatementOfReasonsAdmin(ReadOnlyAdmin):
    list_display = ["id", "puid", "created_at"]
    ordering = ["-pk"]
    search_fields = ["=puid"]
    raw_id_fields = ["decision"]


@admin.register(Notice, site=site)
class NoticeAdmin(ReadOnlyAdmin):
    list_display = ["id", "kind", "recipient", "tier", "created_at"]
    list_filter = ["kind"]
    list_select_related = ["recipient"]
    ordering = ["-pk"]
    raw_id_fields = ["recipient", "case", "decision", "appeal", "restriction"]


@admin.register(TrustedFlagger, site=site)
class TrustedFlaggerAdmin(ReadOnlyAdmin):
    list_display = ["name", "designated_by", "active", "created_at"]
    ordering = ["name"]
