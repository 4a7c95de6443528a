"""Moderation events become webhook deliveries (issue 6: "decision and case events").

Connected in `IntegrationsConfig.ready`. Each receiver runs inside the transaction of the change
(moderation sends its events there), records the deliveries with `webhooks.enqueue_event`, and
queues their sending through the jobs' outbox (`safety_portal.core.outbox`), which publishes after the
commit or, if the broker is down, when it is back. Payloads carry ids and codes only.
"""

from __future__ import annotations

from typing import Any

from moderation import events
from safety_portal.core import outbox
from safety_portal.core.api import webhooks
from safety_portal.core.api.models import WebhookDelivery, WebhookEvent


def dispatch(deliveries: list[WebhookDelivery]) -> None:
    """Queue `tasks.deliver_webhook` for each delivery after commit (via the outbox)."""
    for delivery in deliveries:
        outbox.enqueue(
            "integrations.deliver_webhook",
            kwargs={"delivery_id": delivery.pk},
            dedup_key=f"webhook:{delivery.pk}",
        )


def _send(event: str, payload: dict[str, Any]) -> None:
    dispatch(webhooks.enqueue_event(None, event, payload))


def on_report_filed(sender: Any, *, report: Any, case: Any, case_opened: bool, **_: Any) -> None:
    if case_opened:
        _send(
            WebhookEvent.CASE_OPENED,
            {
                "case_id": case.pk,
                "subject_type": case.subject_type,
                "category": case.category,
                "priority": case.priority,
                "involves_minor": case.involves_minor,
                "opened_at": case.opened_at,
            },
        )


def on_decision_taken(sender: Any, *, decision: Any, **_: Any) -> None:
    payload = {
        "decision_id": decision.pk,
        "case_id": decision.case_id,
        "type": decision.type,
        "category": decision.category,
        "ends_at": decision.ends_at,
        "decided_at": decision.decided_at,
    }
    _send(WebhookEvent.DECISION_TAKEN, payload)
    if decision.type != "escalate":  # an escalation hands the case on; anything else closes it
        _send(WebhookEvent.CASE_CLOSED, {"case_id": decision.case_id, "decision_id": decision.pk})


def on_appeal_decided(sender: Any, *, appeal: Any, **_: Any) -> None:
    if appeal.status == "overturned":
        _send(
            WebhookEvent.DECISION_REVERSED,
            {
                "decision_id": appeal.decision_id,
                "case_id": appeal.decision.case_id,
                "appeal_id": appeal.pk,
                "reversed_at": appeal.decided_at,
            },
        )


def connect() -> None:
    events.report_filed.connect(on_report_filed, dispatch_uid="integrations.case_opened")
    events.decision_taken.connect(on_decision_taken, dispatch_uid="integrations.decision_taken")
    events.appeal_decided.connect(on_appeal_decided, dispatch_uid="integrations.appeal_decided")
