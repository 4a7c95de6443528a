"""Forms of the portal's own pages. They validate shape only; rules live in the domain managers."""

from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm


class LoginForm(AuthenticationForm):
    """Username and password; only staff accounts may sign in to the portal."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "not_staff": "This portal is for staff. App accounts cannot sign in here.",
    }

    def confirm_login_allowed(self, user: object) -> None:
        super().confirm_login_allowed(user)  # type: ignore[arg-type]
        if not getattr(user, "is_staff", False):
            raise forms.ValidationError(self.error_messages["not_staff"], code="not_staff")


class TokenForm(forms.Form):
    token = forms.CharField(
        label="Code",
        max_length=16,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "text",
                "autofocus": True,
                "spellcheck": "false",
            }
        ),
        help_text="The 6-digit code from your authenticator app, or one of your backup codes.",
    )


class EnrolForm(forms.Form):
    token = forms.CharField(
        label="Code from the app",
        max_length=8,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)
