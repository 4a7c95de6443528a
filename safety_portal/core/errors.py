"""Errors that the domain raises and every front door (API, admin, portal, commands) translates.

A `PolicyViolation` is a refusal by a minor-protection or moderation rule: it carries the stable
reason code of POLICY.md §3 so that the API, the portal and the tests speak the same language.
A `DomainError` is bad input or an impossible state change; it carries field errors where it can.
"""

from __future__ import annotations

from collections.abc import Mapping

from . import metrics


class DomainError(Exception):
    """Bad input or a state change that cannot happen; nothing was written."""

    status_code = 400

    def __init__(
        self,
        code: str,
        detail: str,
        *,
        fields: Mapping[str, list[str]] | None = None,
    ) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.fields = dict(fields or {})

    def as_dict(self) -> dict[str, object]:
        body: dict[str, object] = {"code": self.code, "detail": self.detail}
        if self.fields:
            body["fields"] = self.fields
        return body


def http_status(exc: DomainError) -> int:
    """The HTTP status a domain error answers: a domain "not_found" (a report's subject, say) is
    a 404 (issue 6), the rest their class's own. The API's answer and a report receipt's refusal
    (D38) both say this."""
    return 404 if exc.code == "not_found" else exc.status_code


class PolicyViolation(DomainError):
    """A rule of POLICY.md refused the action; `code` is its stable reason code."""

    status_code = 403

    def __init__(self, code: str, detail: str | None = None) -> None:
        super().__init__(str(code), detail or _DEFAULT_DETAIL.get(str(code), str(code)))
        # Every refusal of a rule is raised as a PolicyViolation, whichever door it came in by
        # (API, portal, admin, task): counted here, each refusal is counted once (D30).
        metrics.count("policy_refusals", reason=self.code)


class NotPermitted(DomainError):
    """The acting person lacks the role the action needs."""

    status_code = 403


class Conflict(DomainError):
    """The action conflicts with the current state (already decided, already pending, ...)."""

    status_code = 409


_DEFAULT_DETAIL: dict[str, str] = {
    "under_minimum_age": "The user is below the minimum age to hold an account in their country.",
    "dm_sender_under_16": "People under 16 cannot send direct messages.",
    "dm_recipient_under_16": "People under 16 cannot receive direct messages.",
    "dm_not_friends": "Direct messages with this person need a mutual follow.",
    "dm_recipient_setting": "The recipient's direct-message setting does not allow this message.",
    "dm_sender_setting": "The sender's own direct-message setting is off.",
    "dm_blocked": "One of the two people has blocked the other.",
    "account_restricted": "The account is restricted and cannot do this.",
    "recipient_unavailable": "The recipient's account cannot receive messages right now.",
    "group_add_not_friend": "A 16- or 17-year-old can only be added to a group by a friend.",
    "group_member_under_16": "People under 16 cannot be in group threads.",
    "setting_above_tier_ceiling": "That value is looser than this age group allows.",
    "setting_locked_for_tier": "This setting is fixed for this age group.",
    "guardian_restricted": "A linked guardian has turned this off.",
    "guardian_loosens": "A guardian can make settings stricter, never looser than the age group.",
    "method_too_weak": "Making a birthdate older needs stronger assurance than self-declaration.",
    "birthdate_unchanged": "The new birthdate is the same as the current one.",
    "feature_restricted": "A moderation restriction is active on this feature.",
    "thread_locked": "This thread is locked; its messages are kept but nobody can post.",
}
