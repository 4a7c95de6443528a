from django.apps import AppConfig


class OutboxConfig(AppConfig):
    name = "safety_portal.core.outbox"
    label = "outbox"
    verbose_name = "Background jobs"
