"""Staff roles: which Django group holds which exact permissions, and the only way to change them.

One place (STYLE.md idea 1): every role of issue 5 is a Django group whose permissions are listed
here, codename by codename. `sync_roles()` makes the database match this table exactly (it runs from
a migration, `accounts/migrations/0003_staff_roles.py`, and from `manage.py sync_roles` after a new
permission is added here). Granting or revoking a role goes through `grant_role` / `revoke_role`,
which write `accounts.roles.granted` / `accounts.roles.revoked` in the same transaction as the change
(issue 2: "every change to ... staff roles writes its entry in the same transaction").

A receiver on the `groups`, `user_permissions` and group `permissions` relations refuses any change
made elsewhere (an admin form, a shell, `user.groups.add(...)`), so the audit trail of who held which
role cannot be walked around from Python. Direct per-user permissions are never used: a person's
powers are exactly the union of their roles.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import m2m_changed

from safety_portal.core import audit
from safety_portal.core.audit.actors import SystemActor
from safety_portal.core.errors import DomainError, NotPermitted

from .models import User

if TYPE_CHECKING:
    from django.apps.registry import Apps


class Role(StrEnum):
    """The staff roles of issue 5; the value is the Django group's name."""

    TRIAGE = "Triage"
    MODERATOR = "Moderator"
    SENIOR_MODERATOR = "Senior moderator"
    AUDITOR = "Auditor"
    ADMINISTRATOR = "Administrator"
    CHILD_SAFETY = "Child safety lead"


# Permissions that no model's Meta declares because they guard a portal power rather than a model
# operation. `sync_roles` creates them (content type of the named model) before assigning them.
EXTRA_PERMISSIONS: dict[str, str] = {
    "accounts.view_age": "Can see a user's age in years and age tier",
    "accounts.manage_roles": "Can grant and revoke staff roles",
    "accounts.manage_staff": "Can create staff accounts and reset their second factor",
    "audit.view_metrics": "Can see the moderation metrics and charts",
}
_EXTRA_PERMISSION_MODELS = {"accounts": "user", "audit": "auditentry"}

# Triage: see the queue, claim, add notes, escalate; no enforcement (issue 5).
_TRIAGE = [
    "accounts.view_age",
    "audit.view_metrics",
    "moderation.view_case",
    "moderation.claim_case",
    "moderation.add_case_note",
    "moderation.escalate_case",
    "moderation.view_report",
    "moderation.view_casenote",
    "moderation.view_flag",
    "accounts.view_restriction",
    "moderation.view_strike",
    "moderation.view_decision",
    "messaging.read_message_body",
]
# Moderator: Triage + decisions up to a 30-day suspension; age tier and years, no exact birthdate.
_MODERATOR = [
    *_TRIAGE,
    "accounts.view_user",
    "moderation.decide_case",
    "moderation.review_flag",
]
# Senior moderator: + termination, appeals, birthdate-change approvals, under-age decisions, exact
# birthdates (each view audited), taking over a claimed case.
_SENIOR = [
    *_MODERATOR,
    "moderation.decide_beyond_30_days",
    "moderation.terminate_account",
    "moderation.decide_under_age",
    "moderation.handle_escalated_case",
    "moderation.take_over_case",
    "moderation.view_exact_birthdate",
    "moderation.view_appeal",
    "moderation.decide_appeal",
    "accounts.view_birthdatechangerequest",
    "accounts.decide_birthdatechangerequest",
    "accounts.view_minimumagereview",
]
# Auditor: read-only audit log, statements of reasons and metrics; no bodies, no birthdates.
_AUDITOR = [
    "audit.view_auditentry",
    "audit.verify_chain",
    "audit.view_metrics",
    "moderation.view_statementofreasons",
    "moderation.export_statements",
    "accounts.view_minimumagereview",
]
# Administrator: roles, API clients, settings; every change audited.
_ADMINISTRATOR = [
    "accounts.view_user",
    "accounts.manage_roles",
    "accounts.manage_staff",
    "integrations.view_apiclient",
    "integrations.add_apiclient",
    "integrations.change_apiclient",
]

# Child safety lead (issue 12.6): the team that reports child sexual exploitation to the competent
# authority: its escalation queue, the report packages and the legal holds.
# The case queue is not theirs: what they need of a case is in the escalation and its package.
_CHILD_SAFETY = [
    "moderation.view_childsafetyescalation",
    "moderation.report_child_safety",
    "accounts.view_legalhold",
    "accounts.release_legalhold",
]

ROLE_PERMISSIONS: dict[Role, tuple[str, ...]] = {
    Role.TRIAGE: tuple(_TRIAGE),
    Role.MODERATOR: tuple(_MODERATOR),
    Role.SENIOR_MODERATOR: tuple(_SENIOR),
    Role.AUDITOR: tuple(_AUDITOR),
    Role.ADMINISTRATOR: tuple(_ADMINISTRATOR),
    Role.CHILD_SAFETY: tuple(_CHILD_SAFETY),
}

# --------------------------------------------------------------------------------------------------
# Keeping the groups equal to the table
# --------------------------------------------------------------------------------------------------

_sanctioned: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "roles_sanctioned", default=False
)


@contextmanager
def _sanctioned_change() -> Iterator[None]:
    token = _sanctioned.set(True)
    try:
        yield
    finally:
        _sanctioned.reset(token)


def split(perm: str) -> tuple[str, str]:
    app_label, codename = perm.split(".", 1)
    return app_label, codename


def sync_roles(
    apps: Apps | None = None, *, roles: Iterable[Role] | None = None, using: str = "default"
) -> dict[str, list[str]]:
    """Make each role's group hold exactly the permissions of `ROLE_PERMISSIONS`.

    Works with the migration state (`apps` from RunPython) and with the live registry. Permissions
    whose app or model does not exist yet (a later issue adds it) are skipped and returned under
    "missing", so that running this again after that app's migration completes the role; the test
    suite asserts nothing is missing once every app is migrated.
    """
    apps = apps or global_apps
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    content_type_model = apps.get_model("contenttypes", "ContentType")
    _ensure_model_permissions(apps, using=using)
    _ensure_extra_permissions(apps, content_type_model, permission_model, using=using)
    missing: list[str] = []
    changed: list[str] = []
    with transaction.atomic(using=using), _sanctioned_change():
        for role in roles or list(Role):
            wanted = ROLE_PERMISSIONS[Role(role)]
            found = _permission_ids(permission_model, wanted, using=using)
            missing.extend(p for p in wanted if p not in found)
            group, _ = group_model.objects.using(using).get_or_create(name=Role(role).value)
            current = set(group.permissions.values_list("pk", flat=True))
            target = set(found.values())
            if current != target:
                group.permissions.set(target)
                changed.append(Role(role).value)
    return {"missing": sorted(set(missing)), "changed": changed}


def _permission_ids(permission_model: Any, perms: Iterable[str], *, using: str) -> dict[str, int]:
    wanted = {split(p) for p in perms}
    labels = {a for a, _ in wanted}
    codenames = {c for _, c in wanted}
    rows = (
        permission_model.objects.using(using)
        .filter(content_type__app_label__in=labels, codename__in=codenames)
        .values_list("pk", "content_type__app_label", "codename")
    )
    return {f"{a}.{c}": pk for pk, a, c in rows if (a, c) in wanted}


def _ensure_model_permissions(apps: Apps, *, using: str) -> None:
    """Create the default and Meta permissions now (post_migrate would do it only at the end).

    `create_permissions` wants the real AppConfig (for `models_module`) and looks the models up in
    `apps`, the migration state, so only models that exist at this point of the graph are used.
    """
    for app_config in global_apps.get_app_configs():
        create_permissions(app_config, verbosity=0, using=using, apps=apps)


def _ensure_extra_permissions(
    apps: Apps, content_type_model: Any, permission_model: Any, *, using: str
) -> None:
    for perm, name in EXTRA_PERMISSIONS.items():
        app_label, codename = split(perm)
        model = _EXTRA_PERMISSION_MODELS[app_label]
        try:
            apps.get_model(app_label, model)
        except LookupError:
            continue
        content_type, _ = content_type_model.objects.using(using).get_or_create(
            app_label=app_label, model=model
        )
        permission_model.objects.using(using).get_or_create(
            content_type=content_type, codename=codename, defaults={"name": name}
        )


# --------------------------------------------------------------------------------------------------
# Granting and revoking (audited)
# --------------------------------------------------------------------------------------------------


def roles_of(user: User) -> list[Role]:
    names = {g.name for g in user.groups.all()}
    return [role for role in Role if role.value in names]


def _cache_key(user_id: int) -> str:
    return f"accounts:roles:{user_id}"


def role_names(user: User) -> list[str]:
    """The names of the person's roles, for display on every page (cached; dropped on change).

    Authorisation never reads this cache: permission checks ask the database (Django's
    `has_perm`). It only spares each page a query for the role chips in the header.
    """
    key = _cache_key(user.pk)
    names = cache.get(key)
    if names is None:
        names = [r.value for r in roles_of(user)]
        cache.set(key, names, 300)
    return list(names)


def _forget_cached_roles(user_id: int) -> None:
    cache.delete(_cache_key(user_id))


def _check_actor(actor: object, user: User) -> None:
    """Only an Administrator (or a system job such as the demo seeder) changes roles.

    Nobody changes their own roles: a second administrator must do it, so that no one person can
    give themselves the power to read birthdates or decide appeals (issue 5, Administrator role).
    """
    if isinstance(actor, SystemActor):
        return
    if not isinstance(actor, User):
        raise NotPermitted("not_permitted", "Only an administrator can change staff roles.")
    if not (actor.is_active and actor.is_staff and actor.has_perm("accounts.manage_roles")):
        raise NotPermitted("not_permitted", "Only an administrator can change staff roles.")
    if actor.pk == user.pk:
        raise NotPermitted("not_permitted", "Nobody changes their own roles; ask another admin.")


def _group_for(role: Role) -> Any:
    group = Group.objects.filter(name=role.value).first()
    if group is None:
        # The groups are data of this module; if a test database was flushed, recreate them exactly.
        sync_roles(roles=[role])
        group = Group.objects.get(name=role.value)
    return group


def _parse_role(role: Role | str) -> Role:
    try:
        return Role(role)
    except ValueError as exc:
        raise DomainError(
            "invalid",
            f"{role!r} is not a role.",
            fields={"role": [f"Choose one of: {', '.join(r.value for r in Role)}."]},
        ) from exc


def grant_role(user: User, role: Role | str, *, actor: object, reason: str = "") -> bool:
    """Give a staff account a role; audited as `accounts.roles.granted`. Returns False if held."""
    role = _parse_role(role)
    if not user.is_staff:
        raise DomainError(
            "invalid", "Roles are for staff accounts only.", fields={"user": ["not staff"]}
        )
    _check_actor(actor, user)
    group = _group_for(role)
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        before = [r.value for r in roles_of(locked)]
        if role.value in before:
            return False
        with _sanctioned_change():
            locked.groups.add(group)
        audit.record(
            actor=actor,
            action="accounts.roles.granted",
            target=locked,
            reason=reason,
            before={"roles": before},
            after={"roles": sorted([*before, role.value])},
        )
    _forget_cached_permissions(user)
    return True


def revoke_role(user: User, role: Role | str, *, actor: object, reason: str = "") -> bool:
    """Take a role away; audited as `accounts.roles.revoked`. Returns False if not held."""
    role = _parse_role(role)
    _check_actor(actor, user)
    group = _group_for(role)
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        before = [r.value for r in roles_of(locked)]
        if role.value not in before:
            return False
        with _sanctioned_change():
            locked.groups.remove(group)
        audit.record(
            actor=actor,
            action="accounts.roles.revoked",
            target=locked,
            reason=reason,
            before={"roles": before},
            after={"roles": sorted(r for r in before if r != role.value)},
        )
    _forget_cached_permissions(user)
    return True


def set_roles(user: User, roles: Iterable[Role | str], *, actor: object, reason: str = "") -> None:
    """Make `user` hold exactly `roles` (the admin's user form), one audited entry per change."""
    wanted = {_parse_role(r) for r in roles}
    with transaction.atomic():
        held = set(roles_of(user))
        for role in sorted(held - wanted):
            revoke_role(user, role, actor=actor, reason=reason)
        for role in sorted(wanted - held):
            grant_role(user, role, actor=actor, reason=reason)


def _forget_cached_permissions(user: User) -> None:
    for attr in ("_perm_cache", "_group_perm_cache", "_user_perm_cache"):
        user.__dict__.pop(attr, None)
    user_id = user.pk
    _forget_cached_roles(user_id)
    transaction.on_commit(lambda: _forget_cached_roles(user_id))


# --------------------------------------------------------------------------------------------------
# The guard: role changes made anywhere else are refused
# --------------------------------------------------------------------------------------------------


class RoleChangeRefused(PermissionError):
    pass


def _refuse_unsanctioned(sender: Any, action: str, **kwargs: Any) -> None:
    if not action.startswith("pre_") or _sanctioned.get():
        return
    raise RoleChangeRefused(
        "Staff roles change only through accounts.roles.grant_role / revoke_role (audited); "
        "permissions come from roles only (accounts.roles.sync_roles)."
    )


def connect_guards() -> None:
    """Connect the receivers (idempotent). Called from the accounts admin module and AppConfig."""
    for through in (User.groups.through, User.user_permissions.through, Group.permissions.through):
        m2m_changed.connect(
            _refuse_unsanctioned,
            sender=through,
            dispatch_uid=f"accounts.roles.guard.{through._meta.label_lower}",
        )
