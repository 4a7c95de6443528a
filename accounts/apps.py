from django.apps import AppConfig

from safety_portal import rules
from safety_portal.core.audit import redaction


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and age"

    def ready(self) -> None:
        # Role changes go only through accounts.roles (audited); refuse every other m2m write.
        from .roles import connect_guards  # body import: roles needs the models, loaded after apps

        connect_guards()
        # The audit log keeps a minor's age and tier, never the date (POLICY.md §1; decisions D4).
        redaction.use_minor_summary(rules.ages.minor_summary)
