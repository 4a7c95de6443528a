"""Domain events of the accounts app, which other apps react to (messaging locks threads on them).

The order is fixed: an accounts manager first writes the change and its audit entry, then sends the
event, still inside the same transaction. So a receiver sees the change already recorded, and a
receiver that fails rolls back the change and its audit entry together.
"""

from __future__ import annotations

from django.dispatch import Signal

# sender=User class; kwargs: user, actor, old_status, new_status
status_changed = Signal()
# sender=User class; kwargs: user, actor, old_birthdate, new_birthdate
birthdate_changed = Signal()
# sender=User class; kwargs: user, actor (a safety setting or guardian limit became stricter)
restrictions_tightened = Signal()
