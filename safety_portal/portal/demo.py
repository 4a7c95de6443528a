"""Demo staff: each demo login gets its role and a second factor, printed by `seed_demo`.

`accounts/demo.py` calls `enrol_demo_staff(ctx)` after creating the staff logins. Idempotent: a
role already held is kept, an existing authenticator is reused and its remaining backup codes are
printed again (new ones are issued only when fewer than `SHOWN_CODES` are left). Nothing secret is
stored beyond django-otp's own tables; the otpauth URI printed is the one the enrolment page shows.
"""

from __future__ import annotations

from accounts.models import User
from accounts.roles import Role, grant_role
from safety_portal.core.demo import DEMO_ACTOR, DemoContext

from . import twofactor

SHOWN_CODES = 4
NOTE = (
    "Sign in with username and password, then a code from the authenticator app (or a backup "
    "code; each works once). `oathtool --totp -b <secret>` also prints the current code."
)


def enrol_demo_staff(ctx: DemoContext) -> None:
    for login in ctx.logins:
        try:
            role = Role(login.role)
        except ValueError:
            continue  # not a staff role login
        user = User.objects.get(username=login.username)
        grant_role(user, role, actor=DEMO_ACTOR, reason="Demo staff login.")
        device = twofactor.confirmed_device(user)
        if device is None:
            device, _codes = twofactor.enrol_directly(user, actor=DEMO_ACTOR)
        codes = twofactor.unused_backup_codes(user)
        if len(codes) < SHOWN_CODES:
            codes = twofactor.issue_backup_codes(user, actor=DEMO_ACTOR)
        login.second_factor = [
            f"TOTP (add to an authenticator app): {device.config_url}",
            "single-use backup codes: " + " ".join(codes[:SHOWN_CODES]),
        ]
    if NOTE not in ctx.notes:
        ctx.notes.append(NOTE)
