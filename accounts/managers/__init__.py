"""The accounts' read vocabulary and guarded writes, one module per aggregate.

- users               `UserQuerySet` (age questions in SQL) and `UserManager` (sign-up, status,
                      staff accounts, the audited birthdate read)
- safety_settings     `SafetySettingsManager` (a user's own settings, within the tier ceiling)
- birthdate_requests  `BirthdateChangeRequestManager` and the trigger's `sanction_birthdate_write`
- guardian_links      `GuardianLinkQuerySet` and `GuardianLinkManager` (family pairing)
- reregistration_signals  `ReRegistrationSignalManager` (salted hashes that stop a re-sign-up)
- restrictions        `RestrictionQuerySet` and `RestrictionManager` (feature bans, suspensions)
- assurance_results   `AgeAssuranceResultManager` (append-only results of the ladder, §7.2)
- legal_holds         `LegalHoldManager` (evidence kept for the authority; erasure refuses)
- _common             the checks and input helpers several of them share

Every write asks `safety_portal.rules` first, writes the rows and the audit entry in one
transaction, and sends its domain event (`accounts/events.py`) after the rows and before the
audit entry, which stays the transaction's last write (docs/decisions.md D3, D13). The names below are
re-exported so that `from accounts.managers import X` works whichever module holds X; `models.py`
imports the managers from here and wires each as its model's `objects`.
"""

from ._common import PERM_EXACT_BIRTHDATE, PERM_MANAGE_STAFF
from .assurance_results import AgeAssuranceResultManager, AgeAssuranceResultQuerySet
from .birthdate_requests import BirthdateChangeRequestManager, sanction_birthdate_write
from .guardian_links import GuardianLinkManager, GuardianLinkQuerySet
from .legal_holds import LegalHoldManager, LegalHoldQuerySet
from .reregistration_signals import ReRegistrationSignalManager
from .restrictions import ActiveRestrictions, RestrictionManager, RestrictionQuerySet
from .safety_settings import SafetySettingsManager
from .users import UserManager, UserQuerySet

__all__ = [
    "PERM_EXACT_BIRTHDATE",
    "PERM_MANAGE_STAFF",
    "ActiveRestrictions",
    "AgeAssuranceResultManager",
    "AgeAssuranceResultQuerySet",
    "BirthdateChangeRequestManager",
    "GuardianLinkManager",
    "GuardianLinkQuerySet",
    "LegalHoldManager",
    "LegalHoldQuerySet",
    "ReRegistrationSignalManager",
    "RestrictionManager",
    "RestrictionQuerySet",
    "SafetySettingsManager",
    "UserManager",
    "UserQuerySet",
    "sanction_birthdate_write",
]
