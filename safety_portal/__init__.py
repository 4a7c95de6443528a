"""Safety Portal: the trust-and-safety back office."""

from .celery import app as celery_app

__all__ = ("celery_app",)
