"""Concurrency on real PostgreSQL connections: claims and case joins under contention.

Each thread gets its own database connection (Django's connections are per thread) and the test runs
outside a wrapping transaction (`transactional_db`), so the row locks and the partial unique index
are exercised exactly as in production.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from moderation.models import Case, Report
from safety_portal.core.audit.models import AuditEntry
from tests.factories.messaging import person
from tests.factories.moderation import SCAM, report_user, staff

pytestmark = pytest.mark.django_db(transaction=True)

CLAIMERS = 8
CASES = 40


def run_together(workers: int, work: Callable[[int], Any]) -> list[Any]:
    """Start `workers` threads at the same instant; return their results, re-raising any error."""
    barrier = threading.Barrier(workers)
    results: list[Any] = [None] * workers
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[index] = work(index)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    if errors:
        raise errors[0]
    return results


def test_eight_concurrent_claimers_never_get_the_same_case() -> None:
    reporter = person(40)
    for _ in range(CASES):
        report_user(person(30), reporter=reporter, category=SCAM)
    moderators = [staff("Moderator") for _ in range(CLAIMERS)]

    def claim_until_empty(index: int) -> list[int]:
        moderator = moderators[index]
        taken = []
        while (case := Case.objects.claim_next(actor=moderator)) is not None:
            taken.append(case.pk)
        return taken

    results = run_together(CLAIMERS, claim_until_empty)

    handed_out = Counter(pk for taken in results for pk in taken)
    assert sum(handed_out.values()) == CASES
    assert max(handed_out.values()) == 1, "a case was handed to two moderators"
    assert set(handed_out) == set(Case.objects.values_list("pk", flat=True))
    holders = dict(Case.objects.values_list("pk", "claimed_by_id"))
    for moderator, taken in zip(moderators, results, strict=True):
        assert all(holders[pk] == moderator.pk for pk in taken)
    assert AuditEntry.objects.filter(action="moderation.case.claimed").count() == CASES
    # More than one moderator did get work: the claims really ran side by side.
    assert sum(1 for taken in results if taken) > 1


def test_concurrent_reports_on_a_new_subject_join_one_case() -> None:
    subject = person(30)
    reporters = [person(20 + i) for i in range(CLAIMERS)]

    def file(index: int) -> int:
        return report_user(subject, reporter=reporters[index], category=SCAM).case_id

    case_ids = run_together(CLAIMERS, file)

    assert len(set(case_ids)) == 1
    case = Case.objects.get()
    assert (case.report_count, case.reporter_count) == (CLAIMERS, CLAIMERS)
    assert Report.objects.filter(case=case).count() == CLAIMERS
