"""Users: the age questions asked in SQL, and the guarded writes of an account (POLICY.md §1-4).

Reads answer age questions with birthdate ranges from `latest_birthdate_for_age` in `rules.ages` (the
cut-off birthdate for an age on a date): one comparison each, so the birthdate index serves them and
no row is evaluated in Python; the ages themselves come from `rules.ages` and
`rules.jurisdictions`, never from numbers written here. Writes check the rules first, change the
rows and write the audit entry in one transaction; a domain event, when there is one, is sent
after the audit entry (see `accounts/events.py`).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.apps import apps
from django.contrib.auth.models import UserManager as DjangoUserManager
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import F, Q

from safety_portal import rules
from safety_portal.core import audit, clock
from safety_portal.core.errors import Conflict, DomainError, NotPermitted, PolicyViolation
from safety_portal.core.lookups import AnyOf
from safety_portal.rules.ages import latest_birthdate_for_age

from ..choices import ASSURANCE_LEVEL, COUNTRY_CODES
from ..events import status_changed, statuses_changed
from ._common import (
    birthdate_errors,
    record_birthdate_view,
    require_birthdate_viewer,
    require_staff_account,
    require_staff_admin,
    unknown_method_message,
)

if TYPE_CHECKING:
    from ..models import User


class UserQuerySet(models.QuerySet):
    def app_users(self) -> UserQuerySet:
        return self.filter(birthdate__isnull=False)

    def minors(self, *, on: dt.date) -> UserQuerySet:
        return self.filter(birthdate__gt=latest_birthdate_for_age(rules.ages.ADULT_AGE, on))

    def adults(self, *, on: dt.date) -> UserQuerySet:
        return self.filter(birthdate__lte=latest_birthdate_for_age(rules.ages.ADULT_AGE, on))

    def aged_between(self, youngest: int, oldest: int | None, *, on: dt.date) -> UserQuerySet:
        """Ages youngest..oldest inclusive (oldest None = no upper bound)."""
        qs = self.filter(birthdate__lte=latest_birthdate_for_age(youngest, on))
        if oldest is not None:
            qs = qs.filter(birthdate__gt=latest_birthdate_for_age(oldest + 1, on))
        return qs

    def in_tier(self, tier: rules.vocabulary.Tier | str, *, on: dt.date) -> UserQuerySet:
        """Users of `tier` on `on` (POLICY.md §1); the tier's ages are `rules.ages.tier_ages`."""
        youngest, oldest = rules.ages.tier_ages(tier)
        if youngest == 0 and oldest is not None:
            # A child: bounded above only, with no "born on or before `on`" filter.
            return self.filter(birthdate__gt=latest_birthdate_for_age(oldest + 1, on))
        return self.aged_between(youngest, oldest, on=on)

    def turning(self, age: int, *, on: dt.date) -> UserQuerySet:
        """Users whose `age`-th birthday is `on` (29 Feb births on 1 Mar in non-leap years)."""
        after, upto = rules.ages.birthdates_turning(age, on)
        return self.filter(birthdate__lte=upto, birthdate__gt=after)

    def below_minimum_age(self, *, on: dt.date) -> UserQuerySet:
        """Too young to hold an account where they live on `on` (POLICY.md §2, §7.1): one birthdate
        range per distinct floor age in force that day, the countries as constants."""
        default, floors = rules.jurisdictions.account_floor_ages(on=on)
        by_age: dict[int, list[str]] = {}
        for country, age in floors.items():
            by_age.setdefault(age, []).append(country)
        condition = Q(birthdate__gt=latest_birthdate_for_age(default, on)) & ~Q(
            country__in=list(floors)
        )
        for age, codes in by_age.items():
            condition |= Q(country__in=codes, birthdate__gt=latest_birthdate_for_age(age, on))
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
        today = clock.today()
        errors: dict[str, list[str]] = {}
        if invalid_birthdate := birthdate_errors(birthdate, on=today):
            errors["birthdate"] = invalid_birthdate
        given_country = country
        country = country.strip().upper() if isinstance(country, str) else ""
        if country not in COUNTRY_CODES:
            errors["country"] = [f"{given_country!r} is not an ISO 3166-1 alpha-2 country code."]
        if not isinstance(username, str) or not username or len(username) > 150:
            errors["username"] = ["A username of 1 to 150 characters is required."]
        try:
            method = rules.vocabulary.AssuranceMethod(method)
        except ValueError:
            errors["method"] = [unknown_method_message()]
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
                date_joined=clock.now(),  # the one clock, not the field's own default
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
            safety_settings = self.model._meta.get_field("safety_settings").related_model
            safety_settings.objects.create(user=user, **_settings_fields(defaults))
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
            if old_status == rules.vocabulary.AccountStatus.UNDER_AGE_REVIEW:
                _end_open_reviews([locked.pk], new_status, at=locked.status_changed_at)
            status_changed.send(
                sender=self.model,
                user=locked,
                actor=actor,
                old_status=old_status,
                new_status=new_status.value,
            )
            audit.record(
                actor=actor,
                action="accounts.status.changed",
                target=locked,
                reason=reason,
                before={"status": old_status},
                after={"status": new_status.value},
            )
        user.status, user.status_changed_at = locked.status, locked.status_changed_at
        return locked

    def change_status_many(
        self,
        users: list[User],
        new_status: rules.vocabulary.AccountStatus,
        *,
        actor: object,
        reason: str,
    ) -> list[User]:
        """`change_status` for a batch of accounts the caller has locked (`select_for_update`) in
        its transaction: one UPDATE, one `statuses_changed` event per old status, and one audit
        entry per account written as one batch, last (D3). For the minimum-age sweep, which moves
        thousands of accounts at a time (POLICY.md §7.3). Returns the accounts that moved."""
        if not transaction.get_connection().in_atomic_block:
            raise RuntimeError("change_status_many() needs the caller's transaction and row locks.")
        new_status = rules.vocabulary.AccountStatus(new_status)
        if not reason.strip():
            raise DomainError("invalid", "A reason is required.", fields={"reason": ["required"]})
        moving = [u for u in users if u.status != new_status]
        if not moving:
            return []
        now = clock.now()
        self.filter(AnyOf(F("pk"), [u.pk for u in moving])).update(
            status=new_status.value, status_changed_at=now, updated_at=now
        )
        by_old: dict[str, list[User]] = {}
        for user in moving:
            by_old.setdefault(user.status, []).append(user)
        for old_status, group in by_old.items():
            if old_status == rules.vocabulary.AccountStatus.UNDER_AGE_REVIEW:
                _end_open_reviews([u.pk for u in group], new_status, at=now)
            statuses_changed.send(
                sender=self.model,
                users=group,
                actor=actor,
                old_status=old_status,
                new_status=new_status.value,
            )
        # One before/after mapping per old status, shared: the writer redacts each once.
        after = {"status": new_status.value}
        befores = {old: {"status": old} for old in by_old}
        audit.record_many(
            actor=actor,
            action="accounts.status.changed",
            entries=[
                audit.Pending(target=u, reason=reason, before=befores[u.status], after=after)
                for u in moving
            ],
        )
        for user in moving:
            user.status, user.status_changed_at = new_status.value, now
        return moving

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
        require_staff_admin(actor)
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
            require_staff_account(locked)
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
        require_staff_admin(actor)
        if not isinstance(new_password, str) or not new_password:
            raise DomainError(
                "invalid", "A new password is required.", fields={"new_password": ["required"]}
            )
        with transaction.atomic():
            locked = self.select_for_update().get(pk=user.pk)
            require_staff_account(locked)
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

    def reveal_birthdate(self, user: User, *, actor: object, reason: str) -> dt.date:
        """The exact birthdate of an app user, for a senior moderator who says why; audited.

        Issue 5: "exact birthdates (each view of one is audited)"; only the senior role holds
        `moderation.view_exact_birthdate` (moderators see age and tier, auditors neither). The
        entry `accounts.birthdate.viewed` names the viewer (`actor`), the person and the reason, and never
        the date itself: the log redacts minors' birthdates but keeps adults' (POLICY.md §1, §4),
        and a view is not a change, so it records no value at all. The read and its entry are
        one transaction.
        """
        require_birthdate_viewer(actor, reason)
        with transaction.atomic():
            birthdate = self.filter(pk=user.pk).values_list("birthdate", flat=True).first()
            if birthdate is None:
                raise DomainError(
                    "invalid", "This account has no birthdate.", fields={"user": ["no birthdate"]}
                )
            record_birthdate_view(actor, user, reason=reason)
        return birthdate


def _settings_fields(settings: rules.safety_settings.SafetySettings) -> dict[str, Any]:
    return {name: getattr(settings, name) for name in rules.safety_settings.SETTING_NAMES} | {
        name: str(getattr(settings, name))
        for name in rules.safety_settings.SETTING_NAMES
        if isinstance(getattr(settings, name), str)
    }


def _end_open_reviews(
    user_ids: list[int], new_status: rules.vocabulary.AccountStatus, *, at: dt.datetime
) -> None:
    """Out of review: an open minimum-age review ends (POLICY.md §7.3 counts). Back to active is a
    reinstatement (unless assurance already closed it as verified); anything else a deactivation."""
    # Looked up by name: the review model is defined after the user model this manager serves.
    MinimumAgeReview = apps.get_model("accounts", "MinimumAgeReview")
    outcome = (
        MinimumAgeReview.Outcome.REINSTATED
        if new_status is rules.vocabulary.AccountStatus.ACTIVE
        else MinimumAgeReview.Outcome.DEACTIVATED
    )
    MinimumAgeReview.objects.filter(user_id__in=user_ids, outcome="open").update(
        outcome=outcome, decided_at=at
    )
