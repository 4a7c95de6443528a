from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    """Connects moderation's domain events to webhook deliveries, and keeps the submission state of
    statements of reasons to the DSA Transparency Database (issue 12.4)."""

    name = "safety_portal.integrations"
    label = "integration_events"
    verbose_name = "Integration events"

    def ready(self) -> None:
        # body import: the receivers import every floor's models, which load after the app configs
        from . import receivers

        receivers.connect()
