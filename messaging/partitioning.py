"""Messages' monthly partitions (issue 14.5, decisions D33): which column, and what each partition
needs that PostgreSQL does not carry over from the parent (the TRUNCATE refusal; the row triggers
and the indexes are cloned by PostgreSQL). The roof's daily job creates months ahead from it."""

from __future__ import annotations

from safety_portal.core.partitions import MonthlyTable

from . import triggers
from .models import Message

MESSAGES = MonthlyTable(
    table=Message._meta.db_table,
    column="created_at",
    per_partition_sql=triggers.PER_PARTITION,
)
