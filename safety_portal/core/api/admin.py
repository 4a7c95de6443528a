"""API clients in the admin: the Administrator's page for issue 6's clients (issue 5, roles).

Every change goes through `ApiClient.objects` (create_client, change_scopes, change_throttle_rate,
rotate_token, revoke), which validate, write the audit entry and never log a token. A new token is
shown once on the response page (not in a message, which could sit in a cookie) and nowhere after.
The API base is an app of the ground floor, so this is its own admin module, found by the admin's
autodiscovery like every other; it needs nothing above `core`.
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

from safety_portal.core.admin_site import FastListMixin, site
from safety_portal.core.api.models import ApiClient
from safety_portal.core.api.scopes import ALL_SCOPES
from safety_portal.core.errors import DomainError

SCOPE_CHOICES = [(s, s) for s in ALL_SCOPES]


class ClientCreationForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(choices=SCOPE_CHOICES, widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = ApiClient
        fields = ["name", "throttle_rate"]


class ClientChangeForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(choices=SCOPE_CHOICES, widget=forms.CheckboxSelectMultiple)
    reason = forms.CharField(max_length=500, help_text="Why it changes; recorded in the audit log.")

    class Meta:
        model = ApiClient
        fields = ["throttle_rate"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["scopes"].initial = list(self.instance.scopes or [])


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=500, help_text="Recorded in the audit log.")


class _Refused(Exception):
    pass


@admin.register(ApiClient, site=site)
class ApiClientAdmin(FastListMixin, admin.ModelAdmin):
    list_display = [
        "name",
        "token_prefix",
        "scope_list",
        "throttle_rate",
        "is_active",
        "created_at",
    ]
    list_filter = ["is_active"]
    ordering = ["name"]
    actions = None
    readonly_fields = ["name", "token_prefix", "is_active", "created_at", "revoked_at", "manage"]

    @admin.display(description="Scopes")
    def scope_list(self, obj: ApiClient) -> str:
        return ", ".join(obj.scopes)

    @admin.display(description="Token")
    def manage(self, obj: ApiClient) -> str:
        if not obj.is_active:
            return "revoked"
        return format_html(
            "<a href='{}'>Rotate the token…</a> · <a href='{}'>Revoke…</a>",
            reverse("admin:integrations_apiclient_rotate", args=[obj.pk]),
            reverse("admin:integrations_apiclient_revoke", args=[obj.pk]),
        )

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # revoked, never deleted: the audit log names it

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or obj.is_active)

    def get_form(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        kwargs["form"] = ClientChangeForm if obj is not None else ClientCreationForm
        return super().get_form(request, obj, **kwargs)

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return [(None, {"fields": ["name", "scopes", "throttle_rate"]})]
        editable = ["scopes", "throttle_rate", "reason"] if obj.is_active else []
        return [(None, {"fields": [*self.readonly_fields, *editable]})]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return [] if obj is None else self.readonly_fields

    def save_model(self, request: HttpRequest, obj: ApiClient, form: Any, change: bool) -> None:
        data = form.cleaned_data
        try:
            if not change:
                client, token = ApiClient.objects.create_client(
                    name=data["name"],
                    scopes=data["scopes"],
                    throttle_rate=data.get("throttle_rate", ""),
                    actor=request.user,
                )
                obj.pk = client.pk
                obj.__dict__.update(client.__dict__)
                request._new_api_token = token  # type: ignore[attr-defined]
                return
            current = ApiClient.objects.get(pk=obj.pk)
            with transaction.atomic():
                if list(data["scopes"]) != list(current.scopes):
                    ApiClient.objects.change_scopes(
                        current, data["scopes"], actor=request.user, reason=data["reason"]
                    )
                if data.get("throttle_rate", "") != current.throttle_rate:
                    ApiClient.objects.change_throttle_rate(
                        current,
                        data.get("throttle_rate", ""),
                        actor=request.user,
                        reason=data["reason"],
                    )
        except DomainError as exc:
            raise _Refused(exc.detail) from exc

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        """Nothing: every field was saved by the manager in `save_model`."""

    def changeform_view(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return super().changeform_view(request, *args, **kwargs)
        except _Refused as exc:
            self.message_user(request, str(exc), level=messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def response_add(self, request: HttpRequest, obj: ApiClient, *args: Any) -> HttpResponse:
        return self._show_token(request, obj, getattr(request, "_new_api_token", ""))

    def _show_token(self, request: HttpRequest, obj: ApiClient, token: str) -> HttpResponse:
        return TemplateResponse(
            request,
            "admin/integrations/token_once.html",
            {
                **self.admin_site.each_context(request),
                "title": f"Token for {obj.name}",
                "client": obj,
                "token": token,
                "opts": self.model._meta,
            },
        )

    # -- rotate and revoke, each with a reason -------------------------------------------------------

    def get_urls(self) -> list[Any]:
        wrap = self.admin_site.admin_view
        return [
            path(
                "<int:client_id>/rotate/",
                wrap(self.rotate_view),
                name="integrations_apiclient_rotate",
            ),
            path(
                "<int:client_id>/revoke/",
                wrap(self.revoke_view),
                name="integrations_apiclient_revoke",
            ),
            *super().get_urls(),
        ]

    def _reason_page(self, request: HttpRequest, client_id: int, verb: str, act: Any) -> Any:
        if not self.has_change_permission(request):
            raise PermissionDenied
        client = get_object_or_404(ApiClient, pk=client_id)
        form = ReasonForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                result = act(client, form.cleaned_data["reason"])
            except DomainError as exc:
                form.add_error(None, exc.detail)
            else:
                return result
        return TemplateResponse(
            request,
            "admin/integrations/reason.html",
            {
                **self.admin_site.each_context(request),
                "title": f"{verb} {client.name}",
                "form": form,
                "verb": verb,
                "opts": self.model._meta,
            },
        )

    def rotate_view(self, request: HttpRequest, client_id: int) -> HttpResponse:
        def act(client: ApiClient, reason: str) -> HttpResponse:
            token = ApiClient.objects.rotate_token(client, actor=request.user, reason=reason)
            return self._show_token(request, client, token)

        return self._reason_page(request, client_id, "Rotate the token of", act)

    def revoke_view(self, request: HttpRequest, client_id: int) -> HttpResponse:
        def act(client: ApiClient, reason: str) -> HttpResponse:
            ApiClient.objects.revoke(client, actor=request.user, reason=reason)
            self.message_user(request, f"{client.name} is revoked; its next request gets 401.")
            return HttpResponseRedirect(reverse("admin:integrations_apiclient_changelist"))

        return self._reason_page(request, client_id, "Revoke", act)
