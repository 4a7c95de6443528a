from django.apps import AppConfig


class ApiBaseConfig(AppConfig):
    """The API base: clients, idempotency records, webhook endpoints and deliveries.

    The label stays `integrations` (its tables and migrations were made under it); the code that
    knows the domain (event receivers, the sign-up age gate) is the roof's `safety_portal.integrations`.
    """

    name = "safety_portal.core.api"
    label = "integrations"
    verbose_name = "API clients and webhooks"

    def ready(self) -> None:
        # Registers the OpenAPI description of the Bearer authentication with drf-spectacular.
        # body import: registering needs drf-spectacular's settings, read once apps are ready
        from . import schema  # noqa: F401  (a registration: importing it is the point)
