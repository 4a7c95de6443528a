"""Admin for accounts: staff and their roles, app users as read-only records (issue 5).

Every save goes through the guarded doors: a new staff account through
`User.objects.create_staff_user`, roles through `accounts.roles.set_roles` (audited per change), a
lost second factor through `accounts.twofactor.reset`, deactivation and reactivation through
`User.objects.set_staff_active`, a new password through `User.objects.change_staff_password` (each
on its own page linked from the staff change page; the change form never saves `is_active` or
`password`; the forms are in `admin_forms.py`). App users are records here: nothing about them
(birthdate, status, settings) is edited from the admin; birthdate changes are requests decided in
the portal, status changes are moderation decisions. Nothing here imports the portal: the second
factor is the account's own (`accounts/twofactor.py`), and the API clients' page is the API base's
own admin module (`safety_portal/core/api/admin.py`).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from safety_portal.core.admin_site import FastListMixin, ReadOnlyAdmin, site
from safety_portal.core.errors import DomainError

from . import roles, twofactor
from .admin_forms import (
    ResetTwoFactorForm,
    SetActiveForm,
    SetPasswordForm,
    StaffChangeForm,
    StaffCreationForm,
    domain_errors_into,
)
from .models import BirthdateChangeRequest, GuardianLink, Restriction, SafetySettings, User

roles.connect_guards()


@admin.register(User, site=site)
class UserAdmin(FastListMixin, admin.ModelAdmin):
    list_display = ["username", "kind", "country_code", "status", "date_joined"]
    list_filter = ["is_staff", "status"]
    # `^` is a prefix search (LIKE 'x%', served by the username index under the C collation);
    # `=` is an exact match on the unique external id.
    search_fields = ["^username", "=external_id"]
    search_help_text = "Username prefix, or an exact external id."
    ordering = ["-pk"]
    actions = None
    readonly_fields = [
        "username",
        "kind",
        "country",
        "status",
        "assurance_method",
        "date_joined",
        "last_login",
        "account_active",
        "password_state",
        "second_factor",
    ]
    sortable_by = ["username", "date_joined"]

    @admin.display(description="Country", ordering="country")
    def country_code(self, obj: User) -> str:
        # The code, not the name: resolving a name walks the 250-country choice list per row.
        return str(obj.country.code or "")

    @admin.display(description="Account")
    def kind(self, obj: User) -> str:
        return "staff" if obj.is_staff else "app user"

    @admin.display(description="Active")
    def account_active(self, obj: User) -> str:
        state = "active" if obj.is_active else "deactivated"
        if not obj.is_staff:
            return state
        url = reverse("admin:accounts_user_set_active", args=[obj.pk])
        verb = "deactivate…" if obj.is_active else "reactivate…"
        return format_html("{} · <a href='{}'>{}</a>", state, url, verb)

    @admin.display(description="Password")
    def password_state(self, obj: User) -> str:
        if not obj.is_staff:
            return "— (app users sign in through the app)"
        url = reverse("admin:accounts_user_set_password", args=[obj.pk])
        return format_html("set · <a href='{}'>change…</a>", url)

    @admin.display(description="Second factor")
    def second_factor(self, obj: User) -> str:
        if not obj.is_staff:
            return "—"
        device = twofactor.confirmed_device(obj)
        if device is None:
            return "not set up (asked at next sign-in)"
        url = reverse("admin:accounts_user_reset_2fa", args=[obj.pk])
        return format_html(
            "authenticator app, {} backup codes left · <a href='{}'>reset…</a>",
            twofactor.remaining_backup_codes(obj),
            url,
        )

    # -- who may do what ------------------------------------------------------------------------

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("accounts.view_user")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("accounts.manage_staff")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if not request.user.has_perm("accounts.manage_roles"):
            return False
        return obj is None or obj.is_staff

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # accounts are deactivated, never deleted (the audit log names them)

    # -- forms ----------------------------------------------------------------------------------

    def get_form(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        kwargs["form"] = StaffChangeForm if obj is not None else StaffCreationForm
        return super().get_form(request, obj, **kwargs)

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return [(None, {"fields": ["username", "email", "password1", "password2", "roles"]})]
        fields = list(self.readonly_fields)
        if obj.is_staff and self.has_change_permission(request, obj):
            return [(None, {"fields": fields}), ("Roles", {"fields": ["roles", "reason"]})]
        return [(None, {"fields": fields})]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return [] if obj is None else self.readonly_fields

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        """Staff creation and role changes through the managers; each writes its audit entry."""
        actor = request.user
        try:
            with transaction.atomic():
                if not change:
                    created = User.objects.create_staff_user(
                        actor=actor,
                        username=form.cleaned_data["username"],
                        password=form.cleaned_data["password1"],
                        email=form.cleaned_data.get("email", ""),
                    )
                    obj.pk = created.pk
                    obj.__dict__.update(created.__dict__)
                    wanted = form.cleaned_data.get("roles", [])
                    reason = "Roles given when the account was created."
                else:
                    wanted = form.cleaned_data.get("roles", [])
                    reason = form.cleaned_data["reason"]
                roles.set_roles(obj, wanted, actor=actor, reason=reason)
        except DomainError as exc:
            raise _AdminRefusal(exc.detail) from exc

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        """Nothing: the form has no m2m fields; roles were saved in `save_model` via roles.py."""

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except _AdminRefusal as exc:
            self.message_user(request, str(exc), level=messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    # -- resetting a lost second factor ------------------------------------------------------------

    def get_urls(self) -> list[Any]:
        own = [
            path(
                "<int:user_id>/reset-2fa/",
                self.admin_site.admin_view(self.reset_two_factor_view),
                name="accounts_user_reset_2fa",
            ),
            path(
                "<int:user_id>/active/",
                self.admin_site.admin_view(self.set_active_view),
                name="accounts_user_set_active",
            ),
            path(
                "<int:user_id>/set-password/",
                self.admin_site.admin_view(self.set_password_view),
                name="accounts_user_set_password",
            ),
        ]
        return own + super().get_urls()

    def reset_two_factor_view(self, request: HttpRequest, user_id: int) -> HttpResponse:
        if not request.user.has_perm("accounts.manage_staff"):
            raise PermissionDenied
        target = get_object_or_404(User, pk=user_id, is_staff=True)
        form = ResetTwoFactorForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                twofactor.reset(target, actor=request.user, reason=form.cleaned_data["reason"])
            except DomainError as exc:
                form.add_error(None, exc.detail)
            else:
                self.message_user(
                    request, f"{target}'s second factor was reset; they set it up at next sign-in."
                )
                return HttpResponseRedirect(reverse("admin:accounts_user_change", args=[target.pk]))
        return TemplateResponse(
            request,
            "admin/accounts/reset_two_factor.html",
            {
                **self.admin_site.each_context(request),
                "title": f"Reset the second factor of {target}",
                "form": form,
                "target": target,
                "opts": self.model._meta,
            },
        )

    # -- deactivating, reactivating and re-keying staff (views call the managers) ------------------

    def _staff_target(self, request: HttpRequest, user_id: int) -> User:
        if not request.user.has_perm("accounts.manage_staff"):
            raise PermissionDenied
        return get_object_or_404(User, pk=user_id, is_staff=True)

    def _staff_page(
        self, request: HttpRequest, target: User, form: forms.Form, *, title: str, **extra: Any
    ) -> HttpResponse:
        return TemplateResponse(
            request,
            "admin/accounts/staff_action.html",
            {
                **self.admin_site.each_context(request),
                "title": title,
                "form": form,
                "target": target,
                "opts": self.model._meta,
                **extra,
            },
        )

    def set_active_view(self, request: HttpRequest, user_id: int) -> HttpResponse:
        """Deactivate or reactivate through `User.objects.set_staff_active` (audited)."""
        target = self._staff_target(request, user_id)
        wanted = not target.is_active
        form = SetActiveForm(request.POST or None, initial={"active": "1" if wanted else "0"})
        if request.method == "POST" and form.is_valid():
            try:
                User.objects.set_staff_active(
                    target,
                    form.cleaned_data["active"],
                    actor=request.user,
                    reason=form.cleaned_data["reason"],
                )
            except DomainError as exc:
                domain_errors_into(form, exc)
            else:
                state = "reactivated" if form.cleaned_data["active"] else "deactivated"
                self.message_user(request, f"{target} was {state}.")
                return HttpResponseRedirect(reverse("admin:accounts_user_change", args=[target.pk]))
        verb = "Reactivate" if wanted else "Deactivate"
        return self._staff_page(
            request,
            target,
            form,
            title=f"{verb} {target}",
            submit=verb,
            explanation=(
                f"{target} can sign in again with their password and second factor."
                if wanted
                else f"{target} cannot sign in any more and their open sessions stop working. "
                "The account and its history stay; it can be reactivated."
            ),
        )

    def set_password_view(self, request: HttpRequest, user_id: int) -> HttpResponse:
        """Set a new password through `User.objects.change_staff_password` (audited)."""
        target = self._staff_target(request, user_id)
        form = SetPasswordForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                User.objects.change_staff_password(
                    target, actor=request.user, new_password=form.cleaned_data["new_password"]
                )
            except DomainError as exc:
                domain_errors_into(form, exc)
            else:
                self.message_user(request, f"{target}'s password was changed.")
                return HttpResponseRedirect(reverse("admin:accounts_user_change", args=[target.pk]))
        return self._staff_page(
            request,
            target,
            form,
            title=f"Change the password of {target}",
            submit="Change password",
            explanation=f"{target}'s other sessions end. The change is recorded, the password "
            "is not.",
        )


class _AdminRefusal(Exception):
    pass


@admin.register(BirthdateChangeRequest, site=site)
class BirthdateChangeRequestAdmin(ReadOnlyAdmin):
    """Records only: decisions are taken on the portal page, which calls the manager."""

    list_display = ["id", "user", "direction", "method", "status", "created_at", "decided_by"]
    list_filter = ["status", "method"]
    list_select_related = ["user", "decided_by"]
    ordering = ["-created_at"]
    # No birthdates here: the exact dates are shown, audited, on the portal's review page.
    fields = ["user", "direction", "method", "evidence_reference", "reason", "status"]
    readonly_fields = fields
    raw_id_fields = ["user"]

    @admin.display(description="Direction")
    def direction(self, obj: BirthdateChangeRequest) -> str:
        return "older" if obj.makes_older else "younger"


@admin.register(GuardianLink, site=site)
class GuardianLinkAdmin(ReadOnlyAdmin):
    list_display = ["id", "guardian", "teen", "status", "created_at"]
    list_filter = ["status"]
    list_select_related = ["guardian", "teen"]
    ordering = ["-created_at"]


@admin.register(SafetySettings, site=site)
class SafetySettingsAdmin(ReadOnlyAdmin):
    list_display = ["user", "dm_setting", "private_account", "comment_setting", "updated_at"]
    list_select_related = ["user"]
    ordering = ["-pk"]


@admin.register(Restriction, site=site)
class RestrictionAdmin(ReadOnlyAdmin):
    list_display = ["id", "user", "kind", "feature", "starts_at", "ends_at", "lifted_at"]
    list_filter = ["kind"]
    list_select_related = ["user"]
    ordering = ["-pk"]
    raw_id_fields = ["user"]
