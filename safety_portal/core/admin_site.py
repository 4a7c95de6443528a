"""The portal's admin site: the Administrator's workbench (staff, roles, API clients, records).

Why a site of our own rather than `django.contrib.admin.site`: only what we register here is
reachable, so nothing slips in by an app registering a default ModelAdmin (auth's Group admin would
let anyone with the permission edit a role's permissions in place). Access needs a verified second
factor and the `accounts.manage_staff` permission (the Administrator role); moderators, seniors and
auditors work in the portal pages, which are built for their day.

Every ModelAdmin registered here is read-only unless it routes its save through a manager or
service (see `ReadOnlyAdmin`), so no admin path edits a birthdate, an audit entry or a decision in
place (issue 5).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from .paginator import EstimatedCountPaginator

ADMIN_PERMISSION = "accounts.manage_staff"


class PortalAdminSite(admin.AdminSite):
    site_header = "Safety Portal · administration"
    site_title = "Safety Portal admin"
    index_title = "Administration"
    site_url = "/"
    enable_nav_sidebar = False

    def has_permission(self, request: HttpRequest) -> bool:
        user = request.user
        return bool(
            user.is_active
            and user.is_staff
            and getattr(user, "is_verified", lambda: False)()
            and (user.is_superuser or user.has_perm(ADMIN_PERMISSION))
        )

    def password_change(self, request: HttpRequest, extra_context: Any = None) -> Any:
        """Not here: a password change through the admin would bypass the audited doors."""
        raise PermissionDenied("Passwords are not changed from the admin.")

    def password_change_done(self, request: HttpRequest, extra_context: Any = None) -> Any:
        raise PermissionDenied("Passwords are not changed from the admin.")


site = PortalAdminSite(name="admin")


class FastListMixin:
    """Changelists that stay fast at millions of rows (STYLE.md idea 9)."""

    paginator = EstimatedCountPaginator
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER  # a facet is a COUNT per filter choice
    list_per_page = 50


class ReadOnlyAdmin(FastListMixin, admin.ModelAdmin):
    """A record browser: no add, no change, no delete from the admin."""

    actions = None

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
