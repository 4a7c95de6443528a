"""Events other apps react to inside the same transaction (messaging locks threads on them).

Sent by the account managers after the change and its audit entry are written, still inside the
transaction, so a receiver that fails rolls the whole change back.
"""

from __future__ import annotations

from django.dispatch import Signal

# sender=User class; kwargs: user, actor, old_status, new_status
status_changed = Signal()
# sender=User class; kwargs: user, actor, old_birthdate, new_birthdate
birthdate_changed = Signal()
# sender=User class; kwargs: user, actor (a safety setting or guardian limit became stricter)
restrictions_tightened = Signal()
