"""The audit log: one append-only, hash-chained table that every app writes to.

Why a hash chain as well as database triggers: the triggers stop the application (and anyone using
its database role) from editing history; the chain lets an inspector prove that nobody with more
power than that (a database superuser, a restored backup) did so either. See `chain.py`.
"""

from __future__ import annotations

from typing import Any, NoReturn

from django.db import models
from django.db.models import Q

from .horizon import CurrentTransactionId
from .managers import AuditEntryManager


class AuditEntry(models.Model):
    class ActorKind(models.TextChoices):
        USER = "user", "User"
        API_CLIENT = "api_client", "API client"
        SYSTEM = "system", "System job"

    id = models.BigAutoField(primary_key=True)
    # The chain fields are empty until the entry is linked; with the inline writer (D3) that is
    # before it commits, with the deferred one (D23) the chainer links it after.
    seq = models.BigIntegerField(
        unique=True, null=True, help_text="Position in the chain, gap-free from 1."
    )
    created_at = models.DateTimeField(db_index=True)
    # Set by the database, never by the writer: the position a chainer links in (horizon.py).
    txid = models.BigIntegerField(
        null=True, blank=True, editable=False, db_default=CurrentTransactionId()
    )
    actor_kind = models.CharField(max_length=16, choices=ActorKind.choices)
    actor_id = models.CharField(max_length=64)
    actor_label = models.CharField(max_length=150)
    action = models.CharField(max_length=100, help_text="Dotted code, e.g. accounts.status.changed")
    target_type = models.CharField(max_length=100, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    target_label = models.CharField(max_length=200, blank=True)
    reason = models.TextField(blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    prev_hash = models.CharField(max_length=64, null=True)  # noqa: DJ001 - NULL: not linked yet
    # Unique by a constraint, not `unique=True`: on PostgreSQL the field option also builds a
    # second, `varchar_pattern_ops` index for LIKE queries that nobody runs on a hash, and every
    # append paid for it (the minimum-age sweep writes 100,000 entries at a time).
    hash = models.CharField(max_length=64, null=True)  # noqa: DJ001 - NULL: not linked yet

    objects = AuditEntryManager()

    class Meta:
        # Newest first by id, not by seq: with the deferred chain (D23) an entry is visible from
        # its commit, seconds before the chainer gives it a seq.
        ordering = ["-id"]
        # Django's internal paths (related managers, refresh_from_db, the deletion collector) use
        # the base manager; make it the refusing one too, so no ORM path can update or delete.
        base_manager_name = "objects"
        verbose_name_plural = "audit entries"
        indexes = [
            models.Index(fields=["action", "-id"], name="audit_action_id"),
            models.Index(fields=["actor_kind", "actor_id", "-id"], name="audit_actor_id"),
            models.Index(fields=["target_type", "target_id", "-id"], name="audit_target_id"),
            # The chainer's work list: the entries not linked yet, in the order it links them.
            models.Index(
                fields=["txid", "id"], name="audit_unchained", condition=Q(seq__isnull=True)
            ),
        ]
        constraints = [models.UniqueConstraint(fields=["hash"], name="audit_auditentry_hash_key")]
        permissions = [("verify_chain", "Can run the audit chain verification")]

    def __str__(self) -> str:
        position = f"#{self.seq}" if self.seq is not None else f"id {self.id} (not linked yet)"
        return f"{position} {self.action} by {self.actor_label}"

    def save(self, *args: Any, **kwargs: Any) -> NoReturn:
        """Refused: `record()` inserts entries with its own statement (writer.py), and an entry
        once written never changes (issue 2)."""
        if not self._state.adding:
            raise PermissionError("Audit entries cannot be changed once written.")
        raise PermissionError(
            "Audit entries are written by safety_portal.core.audit.record() only."
        )

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise PermissionError("Audit entries cannot be deleted.")


class AuditArchive(models.Model):
    """One month of the log that was exported to a file and detached (issue 14.5, D32).

    The register `verify_audit_log` reads to put the archived months back into its walk: which
    file, its SHA-256 as written, and the chain positions it holds. Append-only like the log
    itself (the same triggers refuse an update or delete), and every archive also writes an audit
    entry with these facts, so the register is itself covered by the chain.
    """

    partition = models.CharField(max_length=63, unique=True)
    month_start = models.DateTimeField()
    month_end = models.DateTimeField()
    file_name = models.CharField(max_length=200, unique=True)
    sha256 = models.CharField(max_length=64)
    entries = models.PositiveBigIntegerField()
    first_seq = models.BigIntegerField(null=True)
    last_seq = models.BigIntegerField(null=True)
    # The chain head when it was archived: the anchor the file carries in its header too.
    head_seq = models.BigIntegerField(null=True)
    head_hash = models.CharField(max_length=64, blank=True)
    archived_at = models.DateTimeField()
    archived_by = models.CharField(max_length=150)

    class Meta:
        ordering = ["month_start"]

    def __str__(self) -> str:
        return f"{self.partition} ({self.entries:,} entries) in {self.file_name}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise PermissionError("An audit archive record cannot be changed once written.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise PermissionError("An audit archive record cannot be deleted.")
