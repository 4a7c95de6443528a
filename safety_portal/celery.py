"""The Celery app: retry defaults, queues, routes and the beat schedule (issue 7).

Without REDIS_URL (the embedded demo) tasks run eagerly in-process; with it a worker runs them and
one beat process sends the schedule below. Settings (safety_portal/settings.py, CELERY_*) hold what
differs between machines: the broker URL, time limits, the visibility timeout.

Reliability, in one place so that every task gets it without repeating it:
- `acks_late` + `reject_on_worker_lost`: a task is acknowledged only when it finished, so a worker
  killed mid-task (OOM, SIGKILL, a lost machine) leaves the message to be delivered again.
- Transient errors (the database or the broker dropping a connection, a deadlock or serialisation
  failure) are retried with exponential backoff and jitter, at most 5 times, at most 10 minutes
  apart. Every other exception fails the task at once: retrying a bug only repeats it.
- Time limits: 240 s soft / 300 s hard by default (settings), tighter or looser per task.
Because of the first point a task may run twice; every task here is idempotent (tested).
"""

from __future__ import annotations

import os

import kombu.exceptions
import redis.exceptions
from celery import Celery, Task, signals
from celery.schedules import crontab
from django.db import InterfaceError, OperationalError
from kombu import Exchange, Queue

from safety_portal.core import metrics

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "safety_portal.settings")

TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    OperationalError,  # connection lost, deadlock detected, serialisation failure
    InterfaceError,  # connection already closed
    kombu.exceptions.OperationalError,  # the broker refused a publish from inside a task
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
)


class ReliableTask(Task):
    """The base class of every task of the portal (see the module docstring)."""

    acks_late = True
    reject_on_worker_lost = True
    autoretry_for = TRANSIENT_ERRORS
    retry_backoff = True  # 1 s, 2 s, 4 s, ... with full jitter
    retry_backoff_max = 600
    retry_jitter = True
    max_retries = 5
    ignore_result = True


app = Celery("safety_portal", task_cls=ReliableTask)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Three queues so that slow work never starves quick work: `default` (outbox relay, notices and
# anything not routed), `periodic` (the scheduled sweeps and daily jobs), `webhooks` (outbound HTTP:
# webhooks and the Transparency Database, which wait on other people's servers). A worker started
# without -Q consumes all three.
# Each queue has its own exchange and routing key: queues declared by name only would all share the
# default routing key, and Redis would then deliver every message to all three.
QUEUES = ("default", "periodic", "webhooks")
app.conf.task_queues = tuple(Queue(name, Exchange(name), routing_key=name) for name in QUEUES)
app.conf.task_default_queue = "default"
app.conf.task_default_exchange = "default"
app.conf.task_default_routing_key = "default"
app.conf.task_routes = {
    # Outbound HTTP.
    "integrations.deliver_webhook": {"queue": "webhooks"},
    "integrations.deliver_due_webhooks": {"queue": "webhooks"},
    "integrations.announce_notices": {"queue": "webhooks"},
    "integrations.submit_statements": {"queue": "webhooks"},
    # Scheduled sweeps and daily jobs (the outbox relay stays on `default`: it must not wait).
    "accounts.birthday_transitions": {"queue": "periodic"},
    "accounts.minimum_age_sweep": {"queue": "periodic"},
    "accounts.purge_reregistration_signals": {"queue": "periodic"},
    "accounts.apply_minor_defaults": {"queue": "periodic"},
    "moderation.close_expired_under_age_reviews": {"queue": "periodic"},
    "moderation.close_under_age_account": {"queue": "periodic"},
    "moderation.tidy_expired_restrictions": {"queue": "periodic"},
    "moderation.expire_idle_claims": {"queue": "periodic"},
    "moderation.escalate_overdue_cases": {"queue": "periodic"},
    "integrations.purge_idempotency_records": {"queue": "periodic"},
    "integrations.purge_age_gate_attempts": {"queue": "periodic"},
    "integrations.create_partitions": {"queue": "periodic"},
    "safety_portal.core.audit.tasks.anchor_audit_chain": {"queue": "periodic"},
    "audit.link_chain": {"queue": "periodic"},
    "outbox.prune": {"queue": "periodic"},
    "moderation.purge_settled_receipts": {"queue": "periodic"},
}


def _every(seconds: int) -> dict[str, object]:
    """A frequent job: a message older than its period is dropped, so an outage queues no pile."""
    return {"schedule": float(seconds), "options": {"expires": float(seconds)}}


# Times are in TIME_ZONE (CELERY_TIMEZONE). Every job is idempotent and works from the state of the
# database, so a run that beat missed (broker or beat down) loses nothing: the next run catches up.
app.conf.beat_schedule = {
    # Follow-up work recorded while the broker was down (issue 7, Reliability).
    "outbox-relay": {"task": "outbox.relay", **_every(30)},
    "outbox-prune": {"task": "outbox.prune", "schedule": crontab(hour=3, minute=40)},
    # Moderation (issue 4): claims lapse after 30 idle minutes; overdue cases are escalated once.
    "moderation-claim-expiry": {"task": "moderation.expire_idle_claims", **_every(60)},
    "moderation-deadline-escalation": {
        "task": "moderation.escalate_overdue_cases",
        **_every(300),
    },
    # The policy already ignores ended restrictions; this records the end and tells the user.
    "moderation-restriction-tidy-up": {
        "task": "moderation.tidy_expired_restrictions",
        **_every(900),
    },
    # Accounts (POLICY.md §1, §3, §4).
    "accounts-birthday-transitions": {
        "task": "accounts.birthday_transitions",
        "schedule": crontab(hour=0, minute=5),
    },
    # POLICY.md §7.3: a minimum-age rule that took effect re-checks existing accounts.
    "accounts-minimum-age-sweep": {
        "task": "accounts.minimum_age_sweep",
        "schedule": crontab(hour=0, minute=20),
    },
    # POLICY.md §7.3: re-registration signals are kept the appeal window plus 30 days, no longer.
    "accounts-reregistration-signal-purge": {
        "task": "accounts.purge_reregistration_signals",
        "schedule": crontab(hour=3, minute=40),
    },
    "accounts-under-age-closure": {
        "task": "moderation.close_expired_under_age_reviews",
        "schedule": crontab(hour=2, minute=30),
    },
    # Issue 14.5 (D32): the audit log's and the messages' monthly partitions, months ahead.
    "integrations-create-partitions": {
        "task": "integrations.create_partitions",
        "schedule": crontab(hour=1, minute=10),
    },
    # Webhooks (issue 6): deliveries that are due (first attempt lost, or a retry's backoff over).
    "integrations-webhook-sweep": {"task": "integrations.deliver_due_webhooks", **_every(60)},
    "integrations-announce-notices": {"task": "integrations.announce_notices", **_every(60)},
    # DSA Transparency Database (issue 12.4): statements of reasons due to be sent or retried.
    "integrations-statement-submission": {"task": "integrations.submit_statements", **_every(300)},
    "integrations-idempotency-purge": {
        "task": "integrations.purge_idempotency_records",
        "schedule": crontab(minute=15),
    },
    "integrations-age-gate-purge": {
        "task": "integrations.purge_age_gate_attempts",
        "schedule": crontab(hour=4, minute=10),
    },
    # Reports received with `Prefer: respond-async` (D38): the sweep behind the web's kicks.
    "moderation-file-received-reports": {"task": "moderation.file_received_reports", **_every(5)},
    "moderation-purge-settled-receipts": {
        "task": "moderation.purge_settled_receipts",
        "schedule": crontab(hour=3, minute=50),
    },
    # Audit (issue 13, D23): with the deferred chain, committed entries linked within seconds.
    "audit-link-chain": {"task": "audit.link_chain", **_every(5)},
    # Audit (issue 7): the chain head to the external anchor store, hourly.
    "audit-anchor": {
        "task": "safety_portal.core.audit.tasks.anchor_audit_chain",
        "schedule": crontab(minute=0),
    },
}


# --- Task outcomes for /metrics (issue 14.2): counted in the shared store, from any worker -------


@signals.task_success.connect
def _count_success(sender: Task | None = None, **_: object) -> None:
    metrics.count("celery_tasks", task=getattr(sender, "name", "unknown"), outcome="success")


@signals.task_failure.connect
def _count_failure(sender: Task | None = None, **_: object) -> None:
    metrics.count("celery_tasks", task=getattr(sender, "name", "unknown"), outcome="failure")


@signals.task_retry.connect
def _count_retry(sender: object = None, request: object = None, **_: object) -> None:
    name = getattr(request, "task", None) or getattr(sender, "name", "unknown")
    metrics.count("celery_tasks", task=str(name), outcome="retry")
