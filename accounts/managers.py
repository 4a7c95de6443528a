"""The accounts' read vocabulary and guarded writes.

Reads answer age questions in SQL with birthdate ranges computed by `rules.ages.latest_birthdate_for_age`
(one comparison each, so the birthdate index serves them and no row is evaluated in Python). Writes
check the policy first, change the rows, and write the audit entry, all in one transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from django.contrib.auth.models import UserManager as DjangoUserManager
from django.db import IntegrityError, connection, models, transaction
from django.db.models import Q

from safety_portal import rules
from safety_portal.core import audit, clock
from safety_portal.core.audit.actors import identify
from safety_portal.core.errors import Conflict, DomainError, NotPermitted, PolicyViolation

from .choices import ASSURANCE_LEVEL

if TYPE_CHECKING:
    from .models import BirthdateChangeRequest, GuardianLink, SafetySettings, User


def _cutoff(age: int, on: dt.date) -> dt.date:
    return rules.ages.latest_birthdate_for_age(age, on)


class UserQuerySet(models.QuerySet):
    def app_users(self) -> UserQuerySet:
        return self.filter(birthdate__isnull=False)

    def minors(self, *, on: dt.date) -> UserQuerySet:
        return self.filter(birthdate__gt=_cutoff(18, on))

    def adults(self, *, on: dt.date) -> UserQuerySet:
        return self.filter(birthdate__lte=_cutoff(18, on))

    def aged_between(self, youngest: int, oldest: int | None, *, on: dt.date) -> UserQuerySet:
        """Ages youngest..oldest inclusive (oldest None = no upper bound)."""
        qs = self.filter(birthdate__lte=_cutoff(youngest, on))
        if oldest is not None:
            qs = qs.filter(birthdate__gt=_cutoff(oldest + 1, on))
        return qs

    def in_tier(self, tier: rules.vocabulary.Tier | str, *, on: dt.date) -> UserQuerySet:
        bounds = {
            rules.vocabulary.Tier.CHILD: (0, 12),
            rules.vocabulary.Tier.YOUNG_TEEN: (13, 15),
            rules.vocabulary.Tier.OLDER_TEEN: (16, 17),
            rules.vocabulary.Tier.ADULT: (18, None),
        }[rules.vocabulary.Tier(tier)]
        if bounds[0] == 0:
            return self.filter(birthdate__gt=_cutoff(13, on))
        return self.aged_between(bounds[0], bounds[1], on=on)

    def turning(self, age: int, *, on: dt.date) -> UserQuerySet:
        """Users whose `age`-th birthday is `on` (29 Feb births on 1 Mar in non-leap years)."""
        return self.filter(
            birthdate__lte=_cutoff(age, on),
            birthdate__gt=_cutoff(age, on - dt.timedelta(days=1)),
        )

    def below_minimum_age(self, *, on: dt.date) -> UserQuerySet:
        """Country-aware (POLICY.md §2): one birthdate range per distinct minimum age."""
        by_age: dict[int, list[str]] = {}
        for country, age in rules.jurisdictions.MINIMUM_AGE_OVERRIDES.items():
            by_age.setdefault(age, []).append(country)
        overridden = [c for codes in by_age.values() for c in codes]
        condition = Q(birthdate__gt=_cutoff(rules.jurisdictions.DEFAULT_MINIMUM_AGE, on)) & ~Q(
            country__in=overridden
        )
        for age, codes in by_age.items():
            condition |= Q(country__in=codes, birthdate__gt=_cutoff(age, on))
        return self.filter(condition)

    def with_status(self, *statuses: str) -> UserQuerySet:
        return self.filter(status__in=statuses)


class UserManager(DjangoUserManager.from_queryset(UserQuerySet)):  # type: ignore[misc]
    """The doorway for creating and changing app users (POLICY.md §1-4)."""

    use_in_migrations = True

    def create_app_user(
        self,
        *,
        actor: object,
        username: str,
        birthdate: dt.date,
        country: str,
        external_id: str | None = None,
        method: rules.vocabulary.AssuranceMethod = rules.vocabulary.AssuranceMethod.SELF_DECLARED,
        email: str = "",
    ) -> User:
        """Create an app user with tier-default safety settings, audited.

        Refuses invalid birthdates and unknown countries (DomainError) and users below their country's
        minimum age (PolicyViolation under_minimum_age, POLICY.md §2/§3): such an account is never
        created.
        """
        from .models import COUNTRY_CODES, SafetySettings

        today = clock.today()
        errors: dict[str, list[str]] = {}
        birthdate_errors = _birthdate_errors(birthdate, on=today)
        if birthdate_errors:
            errors["birthdate"] = birthdate_errors
        given_country = country
        country = country.strip().upper() if isinstance(country, str) else ""
        if country not in COUNTRY_CODES:
            errors["country"] = [f"{given_country!r} is not an ISO 3166-1 alpha-2 country code."]
        if not isinstance(username, str) or not username or len(username) > 150:
            errors["username"] = ["A username of 1 to 150 characters is required."]
        try:
            method = rules.vocabulary.AssuranceMethod(method)
        except ValueError:
            errors["method"] = [_unknown_method_message()]
        if errors:
            raise DomainError("invalid", "The user could not be created.", fields=errors)
        if rules.ages.is_below_minimum_age(birthdate, country, today):
            raise PolicyViolation(rules.vocabulary.Reason.UNDER_MINIMUM_AGE)
        if self.filter(username=username).exists():
            raise Conflict("duplicate", "That username is taken.", fields={"username": ["taken"]})
        if external_id and self.filter(external_id=external_id).exists():
            raise Conflict("duplicate", "A user with that external_id exists.")
        tier = rules.ages.tier_on(birthdate, today)
        with transaction.atomic():
            user = self.model(
                username=username,
                email=email,
                external_id=external_id,
                birthdate=birthdate,
                country=country,
                assurance_method=method,
                assurance_level=ASSURANCE_LEVEL[rules.vocabulary.AssuranceMethod(method)],
                birthdate_set_at=clock.now(),
            )
            user.set_unusable_password()
            try:
                # A savepoint: a concurrent sign-up that took the same username or external_id
                # between the checks above and this insert is a Conflict, not a server error.
                with transaction.atomic():
                    user.save()
            except IntegrityError as exc:
                raise Conflict(
                    "duplicate", "That username or external_id was just taken; choose another."
                ) from exc
            defaults = rules.safety_settings.default_settings(tier)
            SafetySettings.objects.create(user=user, **_settings_fields(defaults))
            audit.record(
                actor=actor,
                action="accounts.user.created",
                target=user,
                after={
                    "birthdate": birthdate,
                    "country": country,
                    "tier": tier.value,
                    "assurance_method": str(method),
                    "settings": _settings_fields(defaults),
                },
            )
        return user

    def create_staff_user(
        self, *, actor: object, username: str, password: str, email: str = ""
    ) -> User:
        """A portal account without a birthdate; roles are granted separately (audited)."""
        with transaction.atomic():
            user = self.model(username=username, email=email, is_staff=True)
            user.set_password(password)
            user.save()
            audit.record(actor=actor, action="accounts.staff.created", target=user)
        return user

    def change_status(
        self,
        user: User,
        new_status: rules.vocabulary.AccountStatus | str,
        *,
        actor: object,
        reason: str,
    ) -> User:
        """Move an account to another status, audited; messaging reacts via `status_changed`."""
        from .signals import status_changed

        try:
            new_status = rules.vocabulary.AccountStatus(new_status)
        except ValueError:
            raise DomainError(
                "invalid",
                f"{new_status!r} is not an account status.",
                fields={"status": [", ".join(s.value for s in rules.vocabulary.AccountStatus)]},
            ) from None
        if not reason.strip():
            raise DomainError("invalid", "A reason is required.", fields={"reason": ["required"]})
        with transaction.atomic():
            locked = self.select_for_update().get(pk=user.pk)
            old_status = locked.status
            if old_status == new_status:
                return locked
            locked.status = new_status
            locked.status_changed_at = clock.now()
            locked.save(update_fields=["status", "status_changed_at", "updated_at"])
            audit.record(
                actor=actor,
                action="accounts.status.changed",
                target=locked,
                reason=reason,
                before={"status": old_status},
                after={"status": new_status.value},
            )
            status_changed.send(
                sender=self.model,
                user=locked,
                actor=actor,
                old_status=old_status,
                new_status=new_status.value,
            )
        user.status, user.status_changed_at = locked.status, locked.status_changed_at
        return locked

    # -- staff accounts (Administrator role) ------------------------------------------------------

    def set_staff_active(self, user: User, active: bool, *, actor: object, reason: str) -> User:
        """Deactivate or reactivate a staff account; audited `accounts.staff.deactivated` or
        `accounts.staff.reactivated` in the same transaction.

        Issue 5 (Administrator: staff and roles, every change audited; accounts are deactivated,
        never deleted, because the audit log names them). Only an active Administrator
        (`accounts.manage_staff`) may do it, never on their own account, so an administrator
        cannot lock the portal out by mistake; a reason is required. A deactivated person's
        sessions stop at their next request (Django's backend refuses inactive users). Returns
        the account unchanged (and writes nothing) when it is already in the asked state.
        """
        _require_staff_admin(actor)
        if not isinstance(active, bool):
            raise DomainError(
                "invalid", "Active must be true or false.", fields={"active": ["bool"]}
            )
        if not isinstance(reason, str) or not reason.strip():
            raise DomainError("invalid", "A reason is required.", fields={"reason": ["required"]})
        if not active and getattr(actor, "pk", None) == user.pk:
            raise NotPermitted(
                "not_permitted", "Nobody deactivates their own account; ask another administrator."
            )
        with transaction.atomic():
            locked = self.select_for_update().get(pk=user.pk)
            _require_staff_account(locked)
            if locked.is_active == active:
                return locked
            locked.is_active = active
            locked.save(update_fields=["is_active", "updated_at"])
            audit.record(
                actor=actor,
                action="accounts.staff.reactivated" if active else "accounts.staff.deactivated",
                target=locked,
                reason=reason.strip(),
                before={"is_active": not active},
                after={"is_active": active},
            )
        user.is_active = locked.is_active
        return locked

    def change_staff_password(self, user: User, *, actor: object, new_password: str) -> User:
        """Set a staff account's password; audited `accounts.staff.password_changed`.

        Issue 5 (Administrator role; every change audited). Only an active Administrator
        (`accounts.manage_staff`); the password must pass Django's configured validators
        (DomainError with the validators' messages under `new_password`, nothing written). The
        audit entry says that the password changed, never what it is (the secret is not passed
        to the log at all; the log's redaction would blank it anyway). Other sessions of the
        account end, because Django ties each session to the password hash.
        """
        from django.contrib.auth.password_validation import validate_password
        from django.core.exceptions import ValidationError

        _require_staff_admin(actor)
        if not isinstance(new_password, str) or not new_password:
            raise DomainError(
                "invalid", "A new password is required.", fields={"new_password": ["required"]}
            )
        with transaction.atomic():
            locked = self.select_for_update().get(pk=user.pk)
            _require_staff_account(locked)
            try:
                validate_password(new_password, locked)
            except ValidationError as exc:
                raise DomainError(
                    "invalid",
                    "The password is not strong enough.",
                    fields={"new_password": list(exc.messages)},
                ) from None
            locked.set_password(new_password)
            locked.save(update_fields=["password", "updated_at"])
            audit.record(
                actor=actor,
                action="accounts.staff.password_changed",
                target=locked,
                after={"password": "[redacted]"},
            )
        user.password = locked.password
        return locked

    # -- audited reads -----------------------------------------------------------------------------

    def reveal_birthdate(self, user: User, *, viewer: object, reason: str) -> dt.date:
        """The exact birthdate of an app user, for a senior moderator who says why; audited.

        Issue 5: "exact birthdates (each view of one is audited)"; only the senior role holds
        `moderation.view_exact_birthdate` (moderators see age and tier, auditors neither). The
        entry `accounts.birthdate.viewed` names the viewer, the person and the reason, and never
        the date itself: the log redacts minors' birthdates but keeps adults' (POLICY.md §1, §4),
        and a view is not a change, so it records no value at all. The read and its entry are
        one transaction.
        """
        _require_birthdate_viewer(viewer, reason)
        with transaction.atomic():
            birthdate = self.filter(pk=user.pk).values_list("birthdate", flat=True).first()
            if birthdate is None:
                raise DomainError(
                    "invalid", "This account has no birthdate.", fields={"user": ["no birthdate"]}
                )
            _record_birthdate_view(viewer, user, reason=reason)
        return birthdate


def _birthdate_message(exc: rules.ages.InvalidBirthdate) -> str:
    return {
        "future": "A birthdate cannot be in the future.",
        "before_1900": "A birthdate before 1900-01-01 is not accepted.",
    }.get(exc.code, str(exc))


def _birthdate_errors(birthdate: object, *, on: dt.date) -> list[str]:
    """Field errors for a birthdate (POLICY.md §1): a real date, not in the future, not before 1900.

    A datetime is refused too: it is a `date` subclass that cannot be compared with one, and a
    birthdate has no time of day.
    """
    if not isinstance(birthdate, dt.date) or isinstance(birthdate, dt.datetime):
        return ["A birthdate must be a calendar date (YYYY-MM-DD)."]
    try:
        rules.ages.validate_birthdate(birthdate, on=on)
    except rules.ages.InvalidBirthdate as exc:
        return [_birthdate_message(exc)]
    return []


def _unknown_method_message() -> str:
    return "Unknown method; use one of " + ", ".join(
        m.value for m in rules.vocabulary.AssuranceMethod
    )


def _settings_fields(settings: rules.safety_settings.SafetySettings) -> dict[str, Any]:
    return {name: getattr(settings, name) for name in rules.safety_settings.SETTING_NAMES} | {
        name: str(getattr(settings, name))
        for name in rules.safety_settings.SETTING_NAMES
        if isinstance(getattr(settings, name), str)
    }


PERM_MANAGE_STAFF = "accounts.manage_staff"
PERM_EXACT_BIRTHDATE = "moderation.view_exact_birthdate"


def _require_staff_admin(actor: object) -> None:
    """Only an active staff member holding the Administrator's `accounts.manage_staff`."""
    from .models import User

    if not (
        isinstance(actor, User)
        and actor.is_active
        and actor.is_staff
        and actor.has_perm(PERM_MANAGE_STAFF)
    ):
        raise NotPermitted("not_permitted", "Only an administrator manages staff accounts.")


def _require_staff_account(user: User) -> None:
    if not user.is_staff:
        raise DomainError(
            "invalid",
            "Only staff accounts are managed here; app users change through moderation.",
            fields={"user": ["not staff"]},
        )


def _require_birthdate_viewer(viewer: object, reason: str) -> None:
    from .models import User

    if not (
        isinstance(viewer, User)
        and viewer.is_active
        and viewer.is_staff
        and viewer.has_perm(PERM_EXACT_BIRTHDATE)
    ):
        raise NotPermitted("not_permitted", "Only senior moderators see exact birthdates.")
    if not isinstance(reason, str) or not reason.strip():
        raise DomainError("invalid", "Say why you need it.", fields={"reason": ["required"]})


def _record_birthdate_view(
    viewer: object, user: User, *, reason: str, request: BirthdateChangeRequest | None = None
) -> None:
    """`accounts.birthdate.viewed`: who saw whose birthdate and why; never the date itself."""
    audit.record(
        actor=viewer,
        action="accounts.birthdate.viewed",
        target=user,
        reason=reason.strip(),
        after={"birthdate_request": request.pk} if request is not None else None,
    )


class SafetySettingsManager(models.Manager):
    def change(self, user: User, *, actor: object, **values: Any) -> SafetySettings:
        """Change a user's own safety settings; a loosening beyond the tier ceiling is refused.

        POLICY.md §3 (DM setting values per tier, locked duet/download for 13-15). Unknown setting
        names or values are bad input (DomainError); a tier refusal is a PolicyViolation.
        """
        from .signals import restrictions_tightened

        if not values:
            raise DomainError("invalid", "No setting was given.")
        unknown = sorted(set(values) - set(rules.safety_settings.SETTING_NAMES))
        if unknown:
            raise DomainError(
                "invalid", "Unknown settings.", fields={n: ["unknown setting"] for n in unknown}
            )
        from .models import User

        parsed = _parse_settings(values)
        with transaction.atomic():
            # The tier comes from the birthdate as it is now, under the same lock a birthdate
            # change takes, so a correction in flight cannot slip a looser value past the ceiling.
            birthdate = (
                User.objects.select_for_update()
                .filter(pk=user.pk)
                .values_list("birthdate", flat=True)
                .first()
            )
            if birthdate is None:
                raise DomainError("invalid", "Staff accounts have no safety settings.")
            tier = rules.ages.tier_on(birthdate, clock.today())
            for name, value in parsed.items():
                refusal = rules.safety_settings.check_setting(tier, name, value)
                if refusal is not None:
                    raise PolicyViolation(
                        refusal, f"{name}={value!s} is not allowed for {tier.value}."
                    )
            current = self.select_for_update().get(user=user)
            before = {n: _plain(getattr(current, n)) for n in parsed}
            changed = {n: v for n, v in parsed.items() if _plain(getattr(current, n)) != _plain(v)}
            if not changed:
                return current
            for name, value in changed.items():
                setattr(current, name, _plain(value))
            current.save(update_fields=[*changed, "updated_at"])
            audit.record(
                actor=actor,
                action="accounts.settings.changed",
                target=user,
                before={n: before[n] for n in changed},
                after={n: _plain(v) for n, v in changed.items()},
            )
            if _tightens(before, changed):
                restrictions_tightened.send(sender=type(user), user=user, actor=actor)
        return current


_AUDIENCE_SETTINGS = {"dm_setting", "comment_setting", "duet_setting"}


def _parse_settings(values: Mapping[str, Any]) -> dict[str, Any]:
    parsed: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for name, value in values.items():
        if name in _AUDIENCE_SETTINGS:
            try:
                parsed[name] = rules.vocabulary.Audience(value)
            except ValueError:
                errors[name] = [f"{value!r} is not one of nobody, friends, everyone."]
        elif isinstance(value, bool):
            parsed[name] = value
        else:
            errors[name] = [f"{value!r} is not true or false."]
    if errors:
        raise DomainError("invalid", "Some settings have invalid values.", fields=errors)
    return parsed


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, rules.vocabulary.Audience) else value


def _tightens(before: Mapping[str, Any], changed: Mapping[str, Any]) -> bool:
    """Did any setting become stricter? (Threads may need locking: messaging listens.)"""
    for name, value in changed.items():
        value = _plain(value)
        if name in _AUDIENCE_SETTINGS:
            if rules.vocabulary.Audience(value) < rules.vocabulary.Audience(before[name]):
                return True
        elif name == "private_account":
            if value and not before[name]:
                return True
        elif not value and before[name]:  # downloads / suggestions turned off
            return True
    return False


def sanction_birthdate_write(request_id: int | None) -> None:
    """Tell the PostgreSQL trigger that this transaction applies birthdate request `request_id`.

    `None` withdraws the sanction: `_apply` does so right after its write, so that nothing later in
    the same transaction can ride on it (POLICY.md §4).
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT set_config('safety_portal.birthdate_request', %s, true)",
                ["" if request_id is None else str(request_id)],
            )


class BirthdateChangeRequestManager(models.Manager):
    """POLICY.md §4: younger takes effect at once; older waits for staff and strong assurance."""

    def submit(
        self,
        *,
        user: User,
        new_birthdate: dt.date,
        method: rules.vocabulary.AssuranceMethod | str,
        evidence_reference: str,
        reason: str,
        actor: object,
    ) -> BirthdateChangeRequest:
        """Ask for a corrected birthdate (POLICY.md §4).

        Younger: applied at once and recorded (status `applied`); dropping below the country's
        minimum age moves the account to `under_age_review`. Older: queued for a staff reviewer
        (status `pending`), and only with a method stronger than self-declaration (PolicyViolation
        method_too_weak otherwise). One pending request per user (Conflict). Bad input is a
        DomainError with field errors; a refusal writes nothing.
        """
        from .models import User

        today = clock.today()
        errors: dict[str, list[str]] = {}
        try:
            method = rules.vocabulary.AssuranceMethod(method)
        except ValueError:
            errors["method"] = [_unknown_method_message()]
        birthdate_errors = _birthdate_errors(new_birthdate, on=today)
        if birthdate_errors:
            errors["birthdate"] = birthdate_errors
        if not isinstance(reason, str) or not reason.strip():
            errors["reason"] = ["A reason is required."]
        if not isinstance(evidence_reference, str) or len(evidence_reference) > 200:
            errors["evidence_reference"] = ["At most 200 characters (a reference, not a document)."]
        if user.birthdate is None:
            errors["user"] = ["This account has no birthdate to correct."]
        if errors:
            raise DomainError("invalid", "The birthdate-change request is invalid.", fields=errors)
        who = identify(actor)
        with transaction.atomic():
            # Lock the account and read its birthdate as it is now: the caller's instance may be
            # stale, and the direction of the change depends on the current value.
            current = User.objects.select_for_update().get(pk=user.pk)
            kind, decision = rules.birthdates.classify_birthdate_change(
                current.birthdate, new_birthdate, method=method
            )
            if not decision.allowed:
                raise PolicyViolation(decision.reason)
            if self.filter(user=current, status="pending").exists():
                raise Conflict(
                    "pending_request_exists",
                    "This user already has a pending birthdate-change request; decide it first.",
                )
            request = self.create(
                user=current,
                old_birthdate=current.birthdate,
                new_birthdate=new_birthdate,
                method=method,
                evidence_reference=evidence_reference,
                reason=reason,
                requested_by_kind=who.kind,
                requested_by_id=who.id,
                requested_by_label=who.label,
                created_at=clock.now(),
            )
            if kind == rules.birthdates.BirthdateChange.YOUNGER:
                # One change, one entry: the applied entry carries the request's details.
                self._apply(request, actor=actor, status="applied")
            else:
                audit.record(
                    actor=actor,
                    action="accounts.birthdate.change_requested",
                    target=current,
                    reason=reason,
                    before={"birthdate": current.birthdate},
                    after={
                        "birthdate": new_birthdate,
                        "method": method.value,
                        "direction": kind.value,
                        "request": request.pk,
                    },
                )
        if kind == rules.birthdates.BirthdateChange.YOUNGER:
            user.refresh_from_db(
                fields=["birthdate", "assurance_method", "assurance_level", "status"]
            )
        return request

    def reveal_dates(
        self, request: BirthdateChangeRequest, *, viewer: object, reason: str
    ) -> tuple[dt.date, dt.date]:
        """The old and new birthdates of a request, for its senior reviewer; audited as a view
        of the person's birthdate (`User.objects.reveal_birthdate`'s rule and entry, issue 5)."""
        _require_birthdate_viewer(viewer, reason)
        with transaction.atomic():
            old, new = (
                self.filter(pk=request.pk).values_list("old_birthdate", "new_birthdate").get()
            )
            _record_birthdate_view(viewer, request.user, reason=reason, request=request)
        return old, new

    def approve(self, request: BirthdateChangeRequest, *, reviewer: User, note: str) -> None:
        self._decide(request, reviewer=reviewer, note=note, approve=True)

    def reject(self, request: BirthdateChangeRequest, *, reviewer: User, note: str) -> None:
        self._decide(request, reviewer=reviewer, note=note, approve=False)

    def _decide(
        self, request: BirthdateChangeRequest, *, reviewer: User, note: str, approve: bool
    ) -> None:
        if not (reviewer.is_active and reviewer.is_staff) or not reviewer.has_perm(
            "accounts.decide_birthdatechangerequest"
        ):
            raise NotPermitted(
                "not_permitted", "Only senior staff can approve or reject birthdate changes."
            )
        if not note.strip():
            raise DomainError("invalid", "A note is required.", fields={"note": ["required"]})
        with transaction.atomic():
            locked = self.select_for_update().get(pk=request.pk)
            if locked.status != "pending":
                raise Conflict("already_decided", f"This request is already {locked.status}.")
            if reviewer.pk == locked.user_id:
                raise NotPermitted("not_permitted", "Nobody reviews their own birthdate.")
            if approve:
                # A request that did not come through `submit` (admin, shell) gets the same rule.
                _, decision = rules.birthdates.classify_birthdate_change(
                    locked.old_birthdate, locked.new_birthdate, method=locked.method
                )
                if not decision.allowed:
                    raise PolicyViolation(decision.reason)
            locked.decided_by = reviewer
            locked.decided_at = clock.now()
            locked.decision_note = note
            if approve:
                self._apply(locked, actor=reviewer, status="approved")
            else:
                locked.status = "rejected"
                locked.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
                audit.record(
                    actor=reviewer,
                    action="accounts.birthdate.change_rejected",
                    target=locked.user,
                    reason=note,
                    after={"request": locked.pk, "status": locked.status},
                )
        request.refresh_from_db()

    def _apply(self, request: BirthdateChangeRequest, *, actor: object, status: str) -> None:
        """Write the new birthdate through the sanctioned path (the PostgreSQL trigger checks it)."""
        from .models import User
        from .signals import birthdate_changed

        user = User.objects.select_for_update().get(pk=request.user_id)
        old = user.birthdate
        if old != request.old_birthdate:
            raise Conflict(
                "stale_request",
                "The birthdate changed after this request was made; make a new request.",
            )
        today = clock.today()
        request.status = status
        request.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
        sanction_birthdate_write(request.pk)
        user.birthdate = request.new_birthdate
        user.assurance_method = request.method
        user.assurance_level = ASSURANCE_LEVEL[rules.vocabulary.AssuranceMethod(request.method)]
        user.birthdate_set_at = clock.now()
        user.save(
            update_fields=[
                "birthdate",
                "assurance_method",
                "assurance_level",
                "birthdate_set_at",
                "updated_at",
            ]
        )
        sanction_birthdate_write(None)
        audit.record(
            actor=actor,
            action=f"accounts.birthdate.change_{status}",
            target=user,
            reason=request.decision_note or request.reason,
            before={"birthdate": old, "tier": rules.ages.tier_on(old, today).value},
            after={
                "birthdate": user.birthdate,
                "tier": rules.ages.tier_on(user.birthdate, today).value,
                "method": request.method,
                "evidence_reference": request.evidence_reference,
                "request": request.pk,
            },
        )
        birthdate_changed.send(
            sender=User, user=user, actor=actor, old_birthdate=old, new_birthdate=user.birthdate
        )
        if rules.ages.is_below_minimum_age(user.birthdate, user.country.code, today) and (
            user.status != rules.vocabulary.AccountStatus.UNDER_AGE_REVIEW
        ):
            User.objects.change_status(
                user,
                rules.vocabulary.AccountStatus.UNDER_AGE_REVIEW,
                actor=actor,
                reason="Corrected birthdate is below the minimum age for the user's country.",
            )


class GuardianLinkQuerySet(models.QuerySet):
    def active(self) -> GuardianLinkQuerySet:
        return self.filter(status="active")

    def involving(self, user: User) -> GuardianLinkQuerySet:
        return self.filter(Q(guardian=user) | Q(teen=user))


class GuardianLinkManager(models.Manager.from_queryset(GuardianLinkQuerySet)):  # type: ignore[misc]
    """Family pairing (POLICY.md §5): both sides consent; limits only tighten."""

    def propose(self, *, guardian: User, teen: User, proposed_by: User) -> GuardianLink:
        today = clock.today()
        if guardian.birthdate is None or rules.ages.age_on(guardian.birthdate, today) < 18:
            raise PolicyViolation("guardian_not_adult", "A guardian must be an adult app user.")
        if teen.birthdate is None or rules.ages.age_on(teen.birthdate, today) >= 18:
            raise PolicyViolation("teen_not_minor", "Only a minor's account can be linked.")
        if proposed_by.pk not in {guardian.pk, teen.pk}:
            raise NotPermitted("not_permitted", "Only the guardian or the teen can propose a link.")
        now = clock.now()
        with transaction.atomic():
            if self.filter(guardian=guardian, teen=teen).exclude(status="ended").exists():
                raise Conflict("already_linked", "These two accounts are already linked.")
            link = self.create(
                guardian=guardian,
                teen=teen,
                created_at=now,
                guardian_consented_at=now if proposed_by.pk == guardian.pk else None,
                teen_consented_at=now if proposed_by.pk == teen.pk else None,
            )
            audit.record(actor=proposed_by, action="accounts.guardian.proposed", target=link)
        return link

    def consent(self, link: GuardianLink, *, by: User) -> GuardianLink:
        with transaction.atomic():
            link = self.select_for_update().get(pk=link.pk)
            if link.status != "proposed":
                raise Conflict("not_proposed", f"This link is {link.status}.")
            now = clock.now()
            if by.pk == link.guardian_id and link.guardian_consented_at is None:
                link.guardian_consented_at = now
            elif by.pk == link.teen_id and link.teen_consented_at is None:
                link.teen_consented_at = now
            else:
                raise NotPermitted("not_permitted", "Only the side still asked can consent.")
            if link.guardian_consented_at and link.teen_consented_at:
                link.status = "active"
            link.save(update_fields=["guardian_consented_at", "teen_consented_at", "status"])
            audit.record(
                actor=by,
                action="accounts.guardian.activated"
                if link.status == "active"
                else "accounts.guardian.consented",
                target=link,
            )
        return link

    def set_limits(
        self,
        link: GuardianLink,
        *,
        by: User,
        limits: rules.guardianship.GuardianLimits,
        consents_to_personalisation: bool | None = None,
    ) -> GuardianLink:
        """The guardian tightens the teen's settings; a loosening is refused (POLICY.md §5)."""
        from .signals import restrictions_tightened

        if by.pk != link.guardian_id:
            raise NotPermitted("not_permitted", "Only the linked guardian sets these limits.")
        with transaction.atomic():
            link = self.select_for_update().select_related("teen").get(pk=link.pk)
            if link.status != "active":
                raise Conflict(
                    "not_active", "The link is not active: both sides must consent first."
                )
            tier = rules.ages.tier_on(link.teen.birthdate, clock.today())
            refusal = rules.guardianship.check_guardian_limits(tier, limits)
            if refusal is not None:
                raise PolicyViolation(refusal)
            before = _limits_dict(link)
            link.dm_off = limits.dm_off
            link.daily_screen_time_minutes = limits.daily_screen_time_minutes
            link.quiet_hours_start, link.quiet_hours_end = limits.quiet_hours or (None, None)
            if consents_to_personalisation is not None:
                link.consents_to_personalisation = consents_to_personalisation
            if _limits_dict(link) == before:
                return link
            link.save(update_fields=list(before))
            audit.record(
                actor=by,
                action="accounts.guardian.limits_changed",
                target=link,
                before=before,
                after=_limits_dict(link),
            )
            if limits.dm_off and not before["dm_off"]:
                restrictions_tightened.send(sender=type(link.teen), user=link.teen, actor=by)
        return link

    def end(self, link: GuardianLink, *, by: object, reason: str) -> GuardianLink:
        """Either side, staff or a system job ends a link; nobody else can (POLICY.md §5)."""
        from .models import User

        if (
            isinstance(by, User)
            and not by.is_staff
            and by.pk not in {link.guardian_id, link.teen_id}
        ):
            raise NotPermitted("not_permitted", "Only the guardian, the teen or staff can end it.")
        with transaction.atomic():
            link = self.select_for_update().get(pk=link.pk)
            if link.status == "ended":
                raise Conflict("already_ended", "This link has already ended.")
            link.status = "ended"
            link.ended_at = clock.now()
            link.save(update_fields=["status", "ended_at"])
            audit.record(actor=by, action="accounts.guardian.ended", target=link, reason=reason)
        return link


def _limits_dict(link: GuardianLink) -> dict[str, Any]:
    return {
        "dm_off": link.dm_off,
        "daily_screen_time_minutes": link.daily_screen_time_minutes,
        "quiet_hours_start": link.quiet_hours_start,
        "quiet_hours_end": link.quiet_hours_end,
        "consents_to_personalisation": link.consents_to_personalisation,
    }
