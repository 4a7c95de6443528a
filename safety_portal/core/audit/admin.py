"""The audit log in the admin: a read-only record browser that stays fast at millions of rows.

No add, change or delete exists here (the model and the database refuse them anyway). The portal's
audit log page is the reader's tool (filters, chain verification); this is for administrators who
hold `audit.view_auditentry`.
"""

from __future__ import annotations

from django.contrib import admin

from safety_portal.core.admin_site import ReadOnlyAdmin, site

from .models import AuditArchive, AuditEntry


@admin.register(AuditEntry, site=site)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "seq",
        "created_at",
        "actor_kind",
        "actor_label",
        "action",
        "target_label",
    ]
    # Exact matches only: each hits an index (action, actor, target) instead of scanning the log.
    search_fields = ["=action", "=actor_label", "=target_id"]
    search_help_text = "Exact action code, actor name, or target id."
    ordering = ["-id"]  # an entry shows from its commit, before the chainer links it (D23)
    sortable_by: list[str] = []
    list_display_links = ["id"]


@admin.register(AuditArchive, site=site)
class AuditArchiveAdmin(ReadOnlyAdmin):
    """The register of archived months (issue 14.5): read-only, written by the archiver."""

    list_display = ["partition", "entries", "first_seq", "last_seq", "file_name", "archived_at"]
    ordering = ["-month_start"]
