"""The audit log's monthly partitions (issue 14.5, decisions D32): which column, and what each
partition needs that PostgreSQL does not carry over from the parent."""

from __future__ import annotations

from safety_portal.core.partitions import MonthlyTable

from . import triggers
from .models import AuditEntry

AUDIT_LOG = MonthlyTable(
    table=AuditEntry._meta.db_table,
    column="created_at",
    per_partition_sql=triggers.PER_PARTITION,
)
