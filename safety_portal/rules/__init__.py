"""The rules floor: the minor-protection and moderation rules of POLICY.md, as pure functions.

No Django, no ORM, no I/O and no clock: the date is always an argument (POLICY.md §1). Each module
holds one subject, so a rule is found in one hop:

- vocabulary       tiers, statuses, audiences, features, assurance methods, refusal codes
- ages             age on a date, tiers, the birthdate bounds SQL uses
- jurisdictions    the country rules of POLICY.md §2 and §7.1, as dated rows
- minimum_age      the minimum-age sweep's windows and triggers, re-registration signals (§7.3)
- safety_settings  settings, their tier ceilings and defaults
- guardianship     who may be a guardian, quiet hours, screen time, guardian limits (tighten-only)
- capabilities     the effective value of every row of the §3 table, with the reason when refused
- contact          direct messages and group threads
- assurance        the age-assurance ladder: strengths, what a result proves, each purpose's need (§7.2)
- birthdates       classifying a birthdate change
- account_status   which statuses are time-bound, and which of two statuses is the stricter
- decisions        decision types, who may take them, limits, appeal windows, strikes
- casework         who may claim, decide, escalate and take over a case: `allowed_actions`
- risk             when an age estimate or a contact pattern warrants a flag
- priority         a case's priority band and due time
- grounds          the grounds a decision may cite
- sor_vocabulary   the DSA Transparency Database's value lists and limits
- sor_schema       the statement-of-reasons validator
- child_safety     which decisions and flags hold evidence and open an authority escalation
- wellbeing        which cases' message bodies are blurred until a moderator reveals them

Managers, services, views, serializers and admin forms call these; none re-implements them.
"""

from . import (
    account_status,
    ages,
    assurance,
    birthdates,
    capabilities,
    casework,
    child_safety,
    contact,
    decisions,
    grounds,
    guardianship,
    jurisdictions,
    minimum_age,
    priority,
    risk,
    safety_settings,
    sor_schema,
    sor_vocabulary,
    vocabulary,
    wellbeing,
)

__all__ = [
    "account_status",
    "ages",
    "assurance",
    "birthdates",
    "capabilities",
    "casework",
    "child_safety",
    "contact",
    "decisions",
    "grounds",
    "guardianship",
    "jurisdictions",
    "minimum_age",
    "priority",
    "risk",
    "safety_settings",
    "sor_schema",
    "sor_vocabulary",
    "vocabulary",
    "wellbeing",
]
