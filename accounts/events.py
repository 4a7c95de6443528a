"""Domain events of the accounts app, which other apps react to (messaging locks threads on them).

The order is the one every app keeps: a manager writes the change's rows, sends the event, then
writes the change's audit entry, all in one transaction. The audit entry stays the transaction's
last write (the first entry takes the audit chain's lock until commit, docs/decisions.md D3), a
receiver sees the change's rows, and a receiver that fails rolls the whole change back.
"""

from __future__ import annotations

from django.dispatch import Signal

# sender=User class; kwargs: user, actor, old_status, new_status
status_changed = Signal()
# sender=User class; kwargs: users (a list), actor, old_status, new_status: one status change for a
# batch of accounts that all had `old_status` (the minimum-age sweep, POLICY.md §7.3)
statuses_changed = Signal()
# sender=User class; kwargs: user, actor, old_birthdate, new_birthdate
birthdate_changed = Signal()
# sender=User class; kwargs: user, actor (a safety setting or guardian limit became stricter)
restrictions_tightened = Signal()
# sender=User class; kwargs: user, actor, evidence (a dict): an account was created for
# an external id the age gate refused before (POLICY.md §4: moderation raises an age flag)
signed_up_after_age_refusals = Signal()
# sender=User class; kwargs: user, actor, direction ("younger"/"older"), evidence (a dict): an
# age-assurance result disagrees with the stored age (POLICY.md §7.2: moderation flags staff)
assurance_disagrees = Signal()
