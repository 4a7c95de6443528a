from django.apps import AppConfig


class OutboxConfig(AppConfig):
    name = "safety_portal.outbox"
    label = "outbox"
    verbose_name = "Background jobs"
