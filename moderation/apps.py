from django.apps import AppConfig


class ModerationConfig(AppConfig):
    name = "moderation"
    verbose_name = "Moderation"

    def ready(self) -> None:
        # body import: the risk signals import the models, which load after the app configs
        from . import risk_signals

        risk_signals.connect()
