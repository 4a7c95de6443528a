from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "safety_portal.integrations"
    label = "integrations"
    verbose_name = "API clients and webhooks"

    def ready(self) -> None:
        # Registers the OpenAPI description of the Bearer authentication with drf-spectacular.
        from . import receivers, schema  # noqa: F401

        receivers.connect()
