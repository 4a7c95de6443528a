from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and age"

    def ready(self) -> None:
        # Role changes go only through accounts.roles (audited); refuse every other m2m write.
        from .roles import connect_guards

        connect_guards()
