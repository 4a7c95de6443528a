"""Birthdate-change requests: the only way a birthdate changes after sign-up (POLICY.md §4).

Younger takes effect at once; older waits for a senior reviewer and strong assurance. Which way a
change goes and whether it may happen are `rules.birthdates`' answers. The write itself passes the
PostgreSQL trigger through `sanction_birthdate_write`; the audit entry is written before the
`birthdate_changed` event is sent (see `accounts/events.py`), all in one transaction.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.db import connection, models, transaction

from safety_portal import rules
from safety_portal.core import audit, clock
from safety_portal.core.audit.actors import identify
from safety_portal.core.errors import Conflict, DomainError, NotPermitted, PolicyViolation

from ..choices import ASSURANCE_LEVEL
from ..events import birthdate_changed
from ._common import (
    birthdate_errors,
    record_birthdate_view,
    require_birthdate_viewer,
    unknown_method_message,
)

if TYPE_CHECKING:
    from ..models import BirthdateChangeRequest, User


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

    def _user_model(self) -> type[User]:
        """The account model, reached through the request's own field (models.py imports us)."""
        return self.model._meta.get_field("user").related_model

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

        Younger: applied at once and recorded (status `applied`), the stored settings moved
        within the new tier's ceiling in the same transaction (the database checks it at
        commit); dropping below the country's minimum age moves the account to
        `under_age_review`. Older: queued for a staff reviewer
        (status `pending`), and only with a method stronger than self-declaration (PolicyViolation
        method_too_weak otherwise). One pending request per user (Conflict). Bad input is a
        DomainError with field errors; a refusal writes nothing.
        """
        user_model = self._user_model()
        today = clock.today()
        errors: dict[str, list[str]] = {}
        try:
            method = rules.vocabulary.AssuranceMethod(method)
        except ValueError:
            errors["method"] = [unknown_method_message()]
        if invalid_birthdate := birthdate_errors(new_birthdate, on=today):
            errors["birthdate"] = invalid_birthdate
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
            current = user_model.objects.select_for_update().get(pk=user.pk)
            kind, decision = rules.birthdates.classify_birthdate_change(
                current.birthdate, new_birthdate, method=method, on=today
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
                # A request to be found older is how someone under minimum-age review appeals
                # (POLICY.md §4, §7.3): the regulator's counts see it.
                current.minimum_age_reviews.filter(outcome="open", appealed_at__isnull=True).update(
                    appealed_at=request.created_at
                )
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
        self, request: BirthdateChangeRequest, *, actor: object, reason: str
    ) -> tuple[dt.date, dt.date]:
        """The old and new birthdates of a request, for its senior reviewer; audited as a view
        of the person's birthdate (`User.objects.reveal_birthdate`'s rule and entry, issue 5)."""
        require_birthdate_viewer(actor, reason)
        with transaction.atomic():
            old, new = (
                self.filter(pk=request.pk).values_list("old_birthdate", "new_birthdate").get()
            )
            record_birthdate_view(actor, request.user, reason=reason, request=request)
        return old, new

    def approve(self, request: BirthdateChangeRequest, *, actor: User, note: str) -> None:
        """A senior reviewer applies a pending request, with a note (POLICY.md §4); audited."""
        self._decide(request, actor=actor, note=note, approve=True)

    def reject(self, request: BirthdateChangeRequest, *, actor: User, note: str) -> None:
        """A senior reviewer turns a pending request down, with a note (POLICY.md §4); audited."""
        self._decide(request, actor=actor, note=note, approve=False)

    def _decide(
        self, request: BirthdateChangeRequest, *, actor: User, note: str, approve: bool
    ) -> None:
        if not (actor.is_active and actor.is_staff) or not actor.has_perm(
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
            if actor.pk == locked.user_id:
                raise NotPermitted("not_permitted", "Nobody reviews their own birthdate.")
            if approve:
                # A request that did not come through `submit` (admin, shell) gets the same rule.
                _, decision = rules.birthdates.classify_birthdate_change(
                    locked.old_birthdate,
                    locked.new_birthdate,
                    method=locked.method,
                    on=clock.today(),
                )
                if not decision.allowed:
                    raise PolicyViolation(decision.reason)
            locked.decided_by = actor
            locked.decided_at = clock.now()
            locked.decision_note = note
            if approve:
                self._apply(locked, actor=actor, status="approved")
            else:
                locked.status = "rejected"
                locked.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
                audit.record(
                    actor=actor,
                    action="accounts.birthdate.change_rejected",
                    target=locked.user,
                    reason=note,
                    after={"request": locked.pk, "status": locked.status},
                )
        request.refresh_from_db()

    def _apply(self, request: BirthdateChangeRequest, *, actor: object, status: str) -> None:
        """Write the new birthdate through the sanctioned path (the PostgreSQL trigger checks it)."""
        user_model = self._user_model()
        user = user_model.objects.select_for_update().get(pk=request.user_id)
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
        # A younger tier may hold less: the stored settings move within its ceiling in this
        # transaction, which the database checks when it commits (issue 11.5; accounts/triggers.py).
        # One change, one entry: the birthdate entry below names the settings that moved.
        settings_model = user_model._meta.get_field("safety_settings").related_model
        moved = settings_model.objects.write_within_rules(user)
        settings_before, settings_after = ({}, {}) if moved is None else moved[1:]
        birthdate_changed.send(
            sender=user_model,
            user=user,
            actor=actor,
            old_birthdate=old,
            new_birthdate=user.birthdate,
        )
        audit.record(
            actor=actor,
            action=f"accounts.birthdate.change_{status}",
            target=user,
            reason=request.decision_note or request.reason,
            before={
                "birthdate": old,
                "tier": rules.ages.tier_on(old, today).value,
                **({"settings": settings_before} if settings_before else {}),
            },
            after={
                "birthdate": user.birthdate,
                "tier": rules.ages.tier_on(user.birthdate, today).value,
                "method": request.method,
                "evidence_reference": request.evidence_reference,
                "request": request.pk,
                **({"settings": settings_after} if settings_after else {}),
            },
        )
        # body import: the sweep module is built on these managers (models imports them)
        from ..minimum_age_sweep import close_review_verified_older, open_review

        if rules.ages.is_below_minimum_age(user.birthdate, user.country.code, today):
            open_review(
                user,
                actor=actor,
                reason="Corrected birthdate is below the minimum age for the user's country "
                "(POLICY.md §7.3).",
            )
        elif status == "approved":
            close_review_verified_older(user, actor=actor, request=request)
