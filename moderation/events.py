"""Moderation events other apps react to (the API's webhooks, the jobs' outbox).

Sent inside the transaction of the change, after its rows are written and before its audit entry,
as every domain event of every app is: the audit entries are the transaction's last writes, since
the first one takes the audit chain's lock until commit (docs/decisions.md D3). A receiver that
fails rolls the change back; one that talks to the outside world waits with
`transaction.on_commit`.
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
