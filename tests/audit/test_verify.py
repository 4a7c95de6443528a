"""`verify_audit_log` names the first bad entry after tampering by a database superuser (issue 2)
and catches, through the external anchors, what the chain alone cannot (issue 7)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.conf import settings as django_settings
from django.core.management import CommandError

from safety_portal.core.audit import anchors, chain
from safety_portal.core.audit.models import AuditEntry
from safety_portal.core.audit.verification import verify_chain

from .conftest import as_superuser_bypassing_triggers, entry, verify, write_entries

pytestmark = pytest.mark.django_db


def test_an_intact_chain_exits_zero_with_a_one_line_summary() -> None:
    write_entries(5)

    verdict = verify()

    assert verdict.code == 0
    assert verdict.out.count("\n") == 1
    assert "audit chain intact: 5 entries, head #5" in verdict.out
    assert verdict.err == ""  # no progress bar when stderr is not a terminal


def test_an_empty_log_is_intact() -> None:
    verdict = verify()

    assert verdict.code == 0
    assert "0 entries, empty log" in verdict.out


def test_an_altered_entry_is_named() -> None:
    write_entries(5)
    altered = entry(3)
    with as_superuser_bypassing_triggers() as cursor:
        cursor.execute(
            "UPDATE audit_auditentry SET reason = 'nothing happened' WHERE id = %s", [altered.pk]
        )

    verdict = verify()

    assert verdict.code == 1
    assert f"entry #3 (id {altered.pk}): content altered" in verdict.err
    assert "2 entries before it are intact" in verdict.err


def test_an_altered_json_value_is_named() -> None:
    write_entries(4)
    altered = entry(2)
    with as_superuser_bypassing_triggers() as cursor:
        cursor.execute(
            """UPDATE audit_auditentry SET "after" = '{"n": 99}'::jsonb WHERE id = %s""",
            [altered.pk],
        )

    verdict = verify()

    assert verdict.code == 1
    assert f"entry #2 (id {altered.pk}): content altered" in verdict.err


def test_a_removed_entry_is_named_at_the_gap() -> None:
    write_entries(5)
    after_gap = entry(4)
    with as_superuser_bypassing_triggers() as cursor:
        cursor.execute("DELETE FROM audit_auditentry WHERE seq = 3")

    verdict = verify()

    assert verdict.code == 1
    assert f"entry #4 (id {after_gap.pk}): sequence gap: expected #3; #3 removed" in verdict.err


def test_removing_the_first_entry_is_caught() -> None:
    write_entries(3)
    with as_superuser_bypassing_triggers() as cursor:
        cursor.execute("DELETE FROM audit_auditentry WHERE seq = 1")

    verdict = verify()

    assert verdict.code == 1
    assert "entry #2" in verdict.err
    assert "expected #1" in verdict.err


def test_swapped_entries_are_caught_at_the_first_position_swapped() -> None:
    write_entries(5)
    second, third = entry(2), entry(3)
    with as_superuser_bypassing_triggers() as cursor:
        cursor.execute("UPDATE audit_auditentry SET seq = -1 WHERE id = %s", [second.pk])
        cursor.execute("UPDATE audit_auditentry SET seq = 2 WHERE id = %s", [third.pk])
        cursor.execute("UPDATE audit_auditentry SET seq = 3 WHERE id = %s", [second.pk])

    verdict = verify()

    assert verdict.code == 1
    assert f"entry #2 (id {third.pk})" in verdict.err


def test_an_entry_rewritten_with_a_fresh_hash_breaks_the_next_link() -> None:
    write_entries(5)
    rewritten, following = entry(3), entry(4)
    rewritten.reason = "nothing happened"
    new_hash = chain.compute_hash(chain.entry_payload(rewritten))
    with as_superuser_bypassing_triggers() as cursor:
        cursor.execute(
            "UPDATE audit_auditentry SET reason = %s, hash = %s WHERE id = %s",
            [rewritten.reason, new_hash, rewritten.pk],
        )

    verdict = verify()

    assert verdict.code == 1
    assert f"entry #4 (id {following.pk}): link broken" in verdict.err


def _rewrite_suffix_consistently(from_seq: int) -> None:
    """The strongest attack on the chain alone: alter an entry and re-hash everything after it."""
    prev = entry(from_seq - 1).hash
    with as_superuser_bypassing_triggers() as cursor:
        for row in AuditEntry.objects.filter(seq__gte=from_seq).order_by("seq"):
            if row.seq == from_seq:
                row.reason = "nothing happened"
            row.prev_hash = prev
            row.hash = chain.compute_hash(chain.entry_payload(row))
            cursor.execute(
                "UPDATE audit_auditentry SET reason = %s, prev_hash = %s, hash = %s WHERE id = %s",
                [row.reason, row.prev_hash, row.hash, row.pk],
            )
            prev = row.hash


def test_a_consistently_rewritten_history_is_caught_by_the_anchor() -> None:
    write_entries(5)
    anchors.anchor_chain()
    write_entries(2)
    _rewrite_suffix_consistently(3)
    assert verify("--anchors", "none").code == 0  # the chain alone cannot see it

    verdict = verify()

    assert verdict.code == 1
    assert "entry #5" in verdict.err
    assert "anchor mismatch" in verdict.err


@pytest.mark.parametrize("store", ["file", "redis"])
def test_tail_truncation_is_caught_by_each_anchor_store(
    store: str, request: pytest.FixtureRequest
) -> None:
    if store == "redis":
        request.getfixturevalue("redis_url")
    write_entries(5)
    anchors.anchor_chain()
    with as_superuser_bypassing_triggers() as cursor:
        cursor.execute("DELETE FROM audit_auditentry WHERE seq >= 4")
    assert verify("--anchors", "none").code == 0  # what is left still links

    verdict = verify("--anchors", store)

    assert verdict.code == 1
    assert "entry #4: missing: the chain ends at #3" in verdict.err
    assert "#4..#5 were removed (tail truncation)" in verdict.err


def test_a_log_emptied_after_anchoring_is_caught() -> None:
    write_entries(2)
    anchors.anchor_chain()
    with as_superuser_bypassing_triggers() as cursor:
        cursor.execute("DELETE FROM audit_auditentry")

    verdict = verify()

    assert verdict.code == 1
    assert "the chain is empty" in verdict.err


def test_entries_after_the_newest_anchor_are_fine() -> None:
    write_entries(3)
    anchors.anchor_chain()
    write_entries(2)

    verdict = verify()

    assert verdict.code == 0
    assert "5 entries" in verdict.out
    matched = 2 if django_settings.REDIS_URL else 1  # one anchor per configured store
    assert f"{matched} anchor(s) matched" in verdict.out


def test_a_corrupt_anchor_file_is_reported_as_tampering(anchor_file) -> None:
    write_entries(2)
    anchors.anchor_chain()
    with anchor_file.open("a") as handle:
        handle.write("{not json\n")

    verdict = verify("--anchors", "file")

    assert verdict.code == 1
    assert "audit log check FAILED: anchors corrupt" in verdict.err
    assert "line 2" in verdict.err


@pytest.mark.parametrize("size", ["0", "-5"])
def test_a_bad_chunk_size_is_refused_clearly(size: str) -> None:
    with pytest.raises(CommandError, match="chunk size must be between") as caught:
        verify("--chunk-size", size)
    assert caught.value.returncode == 2


def test_an_unknown_anchor_choice_is_refused() -> None:
    with pytest.raises(CommandError, match="invalid choice"):
        verify("--anchors", "paper")


def test_an_unreachable_redis_means_cannot_verify_not_intact(settings) -> None:
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    write_entries(1)

    with pytest.raises(CommandError, match="cannot read the audit anchors") as caught:
        verify()
    assert caught.value.returncode == 2
    assert verify("--anchors", "none").code == 0


def test_the_command_line_exits_two_on_bad_options() -> None:
    result = subprocess.run(
        [sys.executable, "manage.py", "verify_audit_log", "--chunk-size", "0"],
        cwd=django_settings.BASE_DIR,
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 2
    assert "chunk size must be between 1 and 1000000, not 0" in result.stderr


def test_the_shared_check_reports_progress_and_the_head() -> None:
    entries = write_entries(3)
    seen: list[tuple[int, int]] = []

    result = verify_chain(
        anchors="none", on_progress=lambda done, total: seen.append((done, total))
    )

    assert result.ok
    assert result.head == (3, entries[-1].pk, entries[-1].hash)
    assert seen[-1] == (3, 3)


def test_walking_model_instances_finds_the_same_first_bad_entry() -> None:
    write_entries(4)
    altered = entry(3)
    with as_superuser_bypassing_triggers() as cursor:
        cursor.execute(
            "UPDATE audit_auditentry SET actor_id = 'someone' WHERE id = %s", [altered.pk]
        )

    *_, (checked, problem) = chain.walk(AuditEntry.objects.order_by("seq").iterator())

    assert (checked, problem.seq, problem.entry_id) == (2, 3, altered.pk)
    assert verify_chain(anchors="none").problem == problem
