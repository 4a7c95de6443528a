"""Read-only admin pages: what waits in the outbox, which daily runs completed, notices sent."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from .models import JobRun, OutboxMessage, UserNotice


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows are written by the jobs only; the admin shows them."""

    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdmin):
    list_display = ("id", "task_name", "created_at", "dispatched_at", "attempts", "last_error")
    list_filter = (("dispatched_at", admin.EmptyFieldListFilter), "task_name")
    search_fields = ("=id", "dedup_key")


@admin.register(JobRun)
class JobRunAdmin(ReadOnlyAdmin):
    list_display = ("job", "run_date", "started_at", "completed_at")
    list_filter = ("job",)


@admin.register(UserNotice)
class UserNoticeAdmin(ReadOnlyAdmin):
    list_display = ("id", "user", "kind", "tier", "created_at", "read_at")
    list_filter = ("kind", "tier")
    list_select_related = ("user",)
    raw_id_fields = ("user",)
    search_fields = ("=user__id",)
