"""Moderation events other apps react to (the API's webhooks, the jobs' outbox).

Sent inside the transaction of the change, before its audit entry (the audit entry stays the
transaction's last write, docs/decisions.md D3), so a receiver that fails rolls the change back; a
receiver that talks to the outside world must wait with `transaction.on_commit`.
"""

from __future__ import annotations

from django.dispatch import Signal

# sender=Report; kwargs: report, case, case_opened (bool), actor
report_filed = Signal()
# sender=Decision; kwargs: decision, actor (every decision, escalations included)
decision_taken = Signal()
# sender=Appeal; kwargs: appeal, actor
appeal_filed = Signal()
# sender=Appeal; kwargs: appeal, actor (appeal.status tells upheld or overturned)
appeal_decided = Signal()
