from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "messaging"
    verbose_name = "Messaging"

    def ready(self) -> None:
        # body import: the receivers import the models, which load after the app configs
        from . import receivers  # noqa: F401 - connects the account-change receivers
