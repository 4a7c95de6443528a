"""Guardian links (family pairing, POLICY.md §5): both sides consent; limits only tighten.

Who may be linked (an adult guardian, a minor teen) and which limits are a tightening are
`rules.guardianship`' answers. Every write is audited in its own transaction; when a guardian turns
a teen's direct messages off, `restrictions_tightened` is sent after the audit entry (see
`accounts/events.py`), so messaging locks the threads the teen may no longer be in.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import models, transaction
from django.db.models import Q

from safety_portal import rules
from safety_portal.core import audit, clock
from safety_portal.core.errors import Conflict, NotPermitted, PolicyViolation

from ..events import restrictions_tightened

if TYPE_CHECKING:
    from ..models import GuardianLink, User

# What a person is told when `rules.guardianship.check_pairing` refuses a link.
_PAIRING_REFUSALS: dict[rules.vocabulary.Reason, str] = {
    rules.vocabulary.Reason.GUARDIAN_NOT_ADULT: "A guardian must be an adult app user.",
    rules.vocabulary.Reason.TEEN_NOT_MINOR: "Only a minor's account can be linked.",
}


class GuardianLinkQuerySet(models.QuerySet):
    def active(self) -> GuardianLinkQuerySet:
        return self.filter(status="active")

    def involving(self, user: User) -> GuardianLinkQuerySet:
        return self.filter(Q(guardian=user) | Q(teen=user))


class GuardianLinkManager(models.Manager.from_queryset(GuardianLinkQuerySet)):  # type: ignore[misc]
    """Family pairing (POLICY.md §5): both sides consent; limits only tighten."""

    def propose(self, *, guardian: User, teen: User, actor: User) -> GuardianLink:
        """The guardian or the teen (`actor`) proposes a link; the proposer's consent is given.

        POLICY.md §5: only an adult app user can be a guardian and only a minor's account can be
        linked (PolicyViolation with the rule's reason otherwise); one live link per pair.
        """
        refusal = rules.guardianship.check_pairing(
            guardian.birthdate, teen.birthdate, clock.today()
        )
        if refusal is not None:
            raise PolicyViolation(refusal, _PAIRING_REFUSALS[refusal])
        if actor.pk not in {guardian.pk, teen.pk}:
            raise NotPermitted("not_permitted", "Only the guardian or the teen can propose a link.")
        now = clock.now()
        with transaction.atomic():
            if self.filter(guardian=guardian, teen=teen).exclude(status="ended").exists():
                raise Conflict("already_linked", "These two accounts are already linked.")
            link = self.create(
                guardian=guardian,
                teen=teen,
                created_at=now,
                guardian_consented_at=now if actor.pk == guardian.pk else None,
                teen_consented_at=now if actor.pk == teen.pk else None,
            )
            audit.record(actor=actor, action="accounts.guardian.proposed", target=link)
        return link

    def consent(self, link: GuardianLink, *, actor: User) -> GuardianLink:
        """The side still asked (`actor`) consents; with both consents the link is active."""
        with transaction.atomic():
            link = self.select_for_update().get(pk=link.pk)
            if link.status != "proposed":
                raise Conflict("not_proposed", f"This link is {link.status}.")
            now = clock.now()
            if actor.pk == link.guardian_id and link.guardian_consented_at is None:
                link.guardian_consented_at = now
            elif actor.pk == link.teen_id and link.teen_consented_at is None:
                link.teen_consented_at = now
            else:
                raise NotPermitted("not_permitted", "Only the side still asked can consent.")
            if link.guardian_consented_at and link.teen_consented_at:
                link.status = "active"
            link.save(update_fields=["guardian_consented_at", "teen_consented_at", "status"])
            audit.record(
                actor=actor,
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
        actor: User,
        limits: rules.guardianship.GuardianLimits,
        consents_to_personalisation: bool | None = None,
    ) -> GuardianLink:
        """The guardian (`actor`) tightens the teen's settings; a loosening is refused (POLICY.md §5)."""
        if actor.pk != link.guardian_id:
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
            if limits.dm_off and not before["dm_off"]:
                restrictions_tightened.send(sender=type(link.teen), user=link.teen, actor=actor)
            audit.record(
                actor=actor,
                action="accounts.guardian.limits_changed",
                target=link,
                before=before,
                after=_limits_dict(link),
            )
        return link

    def end(self, link: GuardianLink, *, actor: object, reason: str) -> GuardianLink:
        """Either side, staff or a system job ends a link; nobody else can (POLICY.md §5)."""
        user_model = self.model._meta.get_field("guardian").related_model
        if (
            isinstance(actor, user_model)
            and not actor.is_staff
            and actor.pk not in {link.guardian_id, link.teen_id}
        ):
            raise NotPermitted("not_permitted", "Only the guardian, the teen or staff can end it.")
        with transaction.atomic():
            link = self.select_for_update().get(pk=link.pk)
            if link.status == "ended":
                raise Conflict("already_ended", "This link has already ended.")
            link.status = "ended"
            link.ended_at = clock.now()
            link.save(update_fields=["status", "ended_at"])
            audit.record(actor=actor, action="accounts.guardian.ended", target=link, reason=reason)
        return link


def _limits_dict(link: GuardianLink) -> dict[str, Any]:
    return {
        "dm_off": link.dm_off,
        "daily_screen_time_minutes": link.daily_screen_time_minutes,
        "quiet_hours_start": link.quiet_hours_start,
        "quiet_hours_end": link.quiet_hours_end,
        "consents_to_personalisation": link.consents_to_personalisation,
    }
