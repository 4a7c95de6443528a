"""Staff second factor: TOTP devices with single-use backup codes (django-otp), audited.

Issue 5: staff must pass a second factor before any page. Enrolment creates an unconfirmed TOTP
device, shows its otpauth URI as a QR code, and confirms it only when the person types a valid
code; at that moment a fresh set of backup codes (django-otp static tokens, each usable once) is
issued. Only django-otp's own tables hold the secrets; the audit log records that something happened,
never the key or the codes (the redaction in `safety_portal/core/audit/redaction.py` would blank them).

It belongs to the accounts: a second factor is a credential of the staff account, audited under
`accounts.two_factor.*`, and both the portal's sign-in pages and the accounts admin (a lost phone is
reset there) call it from above.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import segno
from django.conf import settings
from django.db import transaction
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from safety_portal.core import audit
from safety_portal.core.audit.actors import SystemActor
from safety_portal.core.errors import Conflict, DomainError, NotPermitted

if TYPE_CHECKING:
    from .models import User

TOTP_NAME = "Authenticator app"
BACKUP_NAME = "Backup codes"


def pending_device(user: User) -> TOTPDevice:
    """The unconfirmed TOTP device being enrolled (created once, reused on reload)."""
    if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        raise Conflict("already_enrolled", "This account already has an authenticator.")
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=TOTP_NAME, confirmed=False)
    return device


def qr_svg(uri: str) -> str:
    """An inline SVG QR code (no script, no style attribute: fine under the portal's CSP)."""
    return segno.make(uri, error="m").svg_inline(scale=4, dark="#101828", light="#ffffff")


def confirm_enrolment(user: User, device: TOTPDevice, token: str, *, actor: object) -> list[str]:
    """Confirm the device with a first valid code and issue backup codes; audited."""
    if device.user_id != user.pk or device.confirmed:
        raise Conflict("not_pending", "This device is not waiting for confirmation.")
    token = (token or "").strip().replace(" ", "")
    if not token.isdigit() or not device.verify_token(token):
        raise DomainError(
            "invalid_code",
            "That code did not match. Check the time on your phone and try the newest code.",
            fields={"token": ["That code did not match."]},
        )
    with transaction.atomic():
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        codes = _replace_backup_codes(user)
        audit.record(
            actor=actor,
            action="accounts.two_factor.enrolled",
            target=user,
            after={"device": TOTP_NAME, "backup_codes": len(codes)},
        )
    return codes


def issue_backup_codes(user: User, *, actor: object) -> list[str]:
    """Replace the person's backup codes with a fresh set (the old ones stop working); audited."""
    if not TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        raise Conflict("not_enrolled", "Set up an authenticator app first.")
    with transaction.atomic():
        codes = _replace_backup_codes(user)
        audit.record(
            actor=actor,
            action="accounts.two_factor.backup_codes_issued",
            target=user,
            after={"backup_codes": len(codes)},
        )
    return codes


def remaining_backup_codes(user: User) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def reset(user: User, *, actor: object, reason: str) -> None:
    """Remove a staff member's devices (lost phone); they enrol again at next sign-in. Audited."""
    if not isinstance(actor, SystemActor):
        if not getattr(actor, "has_perm", lambda _p: False)("accounts.manage_staff"):
            raise NotPermitted("not_permitted", "Only an administrator can reset a second factor.")
        if getattr(actor, "pk", None) == user.pk:
            raise NotPermitted("not_permitted", "Ask another administrator to reset your own.")
    if not reason.strip():
        raise DomainError("invalid", "A reason is required.", fields={"reason": ["required"]})
    with transaction.atomic():
        removed = TOTPDevice.objects.filter(user=user).delete()[0]
        StaticDevice.objects.filter(user=user).delete()
        audit.record(
            actor=actor,
            action="accounts.two_factor.reset",
            target=user,
            reason=reason,
            before={"devices": removed},
        )


def _replace_backup_codes(user: User) -> list[str]:
    device, _ = StaticDevice.objects.get_or_create(
        user=user, name=BACKUP_NAME, defaults={"confirmed": True}
    )
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(settings.PORTAL_BACKUP_CODES)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=c) for c in codes)
    return codes


def confirmed_device(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def enrol_directly(user: User, *, actor: object) -> tuple[TOTPDevice, list[str]]:
    """Create a confirmed device without the scan-and-confirm step (demo seeding, tests); audited.

    Refuses a person who already has one: this never replaces a device someone is using.
    """
    if confirmed_device(user) is not None:
        raise Conflict("already_enrolled", "This account already has an authenticator.")
    with transaction.atomic():
        device = TOTPDevice.objects.create(user=user, name=TOTP_NAME, confirmed=True)
        codes = _replace_backup_codes(user)
        audit.record(
            actor=actor,
            action="accounts.two_factor.enrolled",
            target=user,
            after={"device": TOTP_NAME, "backup_codes": len(codes)},
        )
    return device, codes


def unused_backup_codes(user: User) -> list[str]:
    return list(
        StaticToken.objects.filter(device__user=user, device__confirmed=True)
        .order_by("pk")
        .values_list("token", flat=True)
    )
