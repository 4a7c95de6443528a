"""Forms of the accounts admin's staff pages: they collect input, the managers decide.

No form saves anything itself: `accounts/admin.py` passes the cleaned data to
`User.objects.create_staff_user`, `roles.set_roles`, `User.objects.set_staff_active`,
`User.objects.change_staff_password` and `twofactor.reset`, and puts a refusal back on the form
with `domain_errors_into`. Kept apart from the admin classes so each module stays readable.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.password_validation import validate_password

from safety_portal.core.errors import DomainError

from . import roles
from .models import User

ROLE_CHOICES = [(r.value, r.value) for r in roles.Role]


class StaffChangeForm(forms.ModelForm):
    """Only the roles are editable; they are saved by `roles.set_roles`, never by the m2m field."""

    roles = forms.MultipleChoiceField(
        choices=ROLE_CHOICES, required=False, widget=forms.CheckboxSelectMultiple
    )
    reason = forms.CharField(
        required=True,
        max_length=500,
        help_text="Why the roles change; recorded in the audit log.",
    )

    class Meta:
        model = User
        fields: list[str] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["roles"].initial = [r.value for r in roles.roles_of(self.instance)]


class StaffCreationForm(forms.ModelForm):
    password1 = forms.CharField(label="Password", widget=forms.PasswordInput, strip=False)
    password2 = forms.CharField(label="Password again", widget=forms.PasswordInput, strip=False)
    roles = forms.MultipleChoiceField(
        choices=ROLE_CHOICES, required=False, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = User
        fields = ["username", "email"]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("password1") != data.get("password2"):
            self.add_error("password2", "The two passwords differ.")
        elif data.get("password1"):
            try:
                validate_password(data["password1"], User(username=data.get("username", "")))
            except forms.ValidationError as exc:
                self.add_error("password1", exc)
        return data


class SetActiveForm(forms.Form):
    active = forms.TypedChoiceField(
        choices=[("1", "active"), ("0", "inactive")],
        coerce=lambda v: v == "1",
        widget=forms.HiddenInput,
    )
    reason = forms.CharField(
        max_length=500, help_text="For example: left the team, ticket IT-1234. Recorded."
    )


class SetPasswordForm(forms.Form):
    new_password = forms.CharField(label="New password", widget=forms.PasswordInput, strip=False)
    new_password2 = forms.CharField(
        label="New password again", widget=forms.PasswordInput, strip=False
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("new_password") != data.get("new_password2"):
            self.add_error("new_password2", "The two passwords differ.")
        return data


def domain_errors_into(form: forms.Form, exc: DomainError) -> None:
    """Put a manager's refusal on the form: on its fields when it names them, else on the form."""
    placed = False
    for field, errors in exc.fields.items():
        if field in form.fields:
            form.add_error(field, errors)
            placed = True
    if not placed:
        form.add_error(None, exc.detail)


class ResetTwoFactorForm(forms.Form):
    reason = forms.CharField(
        max_length=500, help_text="For example: lost phone, ticket IT-1234. Recorded."
    )
