"""The tables partitioned by month, and the daily job that keeps their partitions ahead of the
calendar (issue 14.5, decisions D32).

This sits on the roof because it names tables of several floors; each table's owner says how it is
partitioned (`core.audit.partitioning`, `messaging.partitioning`), and the mechanism is
`core.partitions`. A month that cannot be created because its rows already sit in the DEFAULT
partition is logged as an error and shown by `/metrics`; the writes themselves never fail for it.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings

from messaging.partitioning import MESSAGES
from safety_portal.core import partitions
from safety_portal.core.audit.partitioning import AUDIT_LOG

logger = logging.getLogger(__name__)

PARTITIONED: tuple[partitions.MonthlyTable, ...] = (AUDIT_LOG, MESSAGES)


def create_ahead(today: dt.date, months_ahead: int | None = None) -> list[partitions.Ensured]:
    """This month and the next `months_ahead` (PARTITION_MONTHS_AHEAD) for every table."""
    ahead = settings.PARTITION_MONTHS_AHEAD if months_ahead is None else months_ahead
    results = [partitions.ensure_ahead(spec, today, ahead) for spec in PARTITIONED]
    for result in results:
        for month, why in result.blocked:
            logger.error(
                "partition of %s for %s cannot be created: %s",
                result.table,
                month,
                why,
                extra={"partition_table": result.table, "partition_month": str(month)},
            )
    return results
