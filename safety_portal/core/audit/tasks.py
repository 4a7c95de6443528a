"""Celery tasks of the audit log. Thin: each calls one function and is safe to run twice."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from . import anchors, chainer


@shared_task(
    bind=True,
    name="safety_portal.core.audit.tasks.anchor_audit_chain",
    acks_late=True,
    reject_on_worker_lost=True,
    # A store that is down (Redis restarting, a full disk) is retried with backoff; the store
    # that worked is not written twice, because each store skips a head it already holds.
    # An AnchorConflict (tampering evidence) is not retried: it fails loudly for the operators.
    autoretry_for=(anchors.AnchorStoreUnavailable,),
    retry_backoff=30,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=6,
    soft_time_limit=60,
    time_limit=90,
    ignore_result=True,
)
def anchor_audit_chain(self: Any) -> dict[str, Any]:
    """Write the audit chain head to the external anchor stores (issue 7, hourly on beat).

    Idempotent: when the head has not moved since the last run, nothing is written.
    """
    return anchors.anchor_chain().as_dict()


@shared_task(name="audit.link_chain", ignore_result=True, soft_time_limit=120, time_limit=180)
def link_chain() -> dict[str, Any]:
    """Link the committed audit entries into the chain (D23). Safe to run at once on many
    workers: they take the chain-head lock in turn and each links only what is still unlinked."""
    return chainer.link_committed().as_dict()
