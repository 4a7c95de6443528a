from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "safety_portal.core.audit"
    label = "audit"
    verbose_name = "Audit log"
