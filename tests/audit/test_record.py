"""`audit.record()` writes in the transaction of the change, or not at all (issue 2)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.db import DataError, transaction

from safety_portal.core import audit
from safety_portal.core.audit import chain
from safety_portal.core.audit.actors import SystemActor
from safety_portal.core.audit.models import AuditEntry
from safety_portal.core.audit.verification import verify_chain

ACTOR = SystemActor("tests.record")


class Boom(Exception):
    pass


def create_group_then(audit_write) -> None:
    """One transaction: a change (a new group), then the given audit write."""
    with transaction.atomic():
        group = Group.objects.create(name="Night shift")
        audit_write(group)


@pytest.mark.django_db(transaction=True)
def test_record_outside_a_transaction_is_refused_and_writes_nothing() -> None:
    with pytest.raises(RuntimeError, match=r"inside transaction\.atomic"):
        audit.record(actor=ACTOR, action="tests.thing.done")

    assert AuditEntry.objects.count() == 0


@pytest.mark.django_db
def test_a_change_that_fails_after_its_entry_leaves_neither_the_change_nor_the_entry() -> None:
    def record_then_fail(group: Group) -> None:
        audit.record(actor=ACTOR, action="tests.group.created", target=group)
        raise Boom

    with pytest.raises(Boom):
        create_group_then(record_then_fail)

    assert not Group.objects.filter(name="Night shift").exists()
    assert AuditEntry.objects.count() == 0


@pytest.mark.django_db
def test_an_audit_write_refused_in_python_rolls_the_change_back() -> None:
    with pytest.raises(TypeError, match="never None"):
        create_group_then(lambda group: audit.record(actor=None, action="tests.group.created"))

    assert not Group.objects.filter(name="Night shift").exists()


@pytest.mark.django_db
def test_an_audit_write_refused_by_the_database_rolls_the_change_back() -> None:
    # A target id longer than its column: the database refuses the INSERT itself.
    with pytest.raises(DataError):
        create_group_then(
            lambda group: audit.record(
                actor=ACTOR, action="tests.group.created", target_id="9" * 65
            )
        )

    assert not Group.objects.filter(name="Night shift").exists()
    assert AuditEntry.objects.count() == 0


@pytest.mark.django_db
def test_entries_chain_from_the_genesis_value_with_gap_free_seq() -> None:
    with transaction.atomic():
        group = Group.objects.create(name="Appeals")
        first = audit.record(
            actor=ACTOR, action="tests.group.created", target=group, reason="set-up"
        )
    with transaction.atomic():
        second = audit.record(actor=ACTOR, action="tests.group.renamed", target=group)

    assert (first.seq, first.prev_hash) == (1, chain.GENESIS)
    assert (second.seq, second.prev_hash) == (2, first.hash)
    stored = AuditEntry.objects.get(pk=first.pk)
    assert (stored.target_type, stored.target_id, stored.target_label) == (
        "auth.group",
        str(group.pk),
        "Appeals",
    )
    assert (stored.actor_kind, stored.actor_id) == ("system", "tests.record")
    assert chain.compute_hash(chain.entry_payload(stored)) == stored.hash


@pytest.mark.django_db
@pytest.mark.parametrize(
    "action", ["", "nodots", "Accounts.Status.Changed", "accounts..changed", "a." + "x" * 99]
)
def test_an_action_that_is_not_a_dotted_code_is_refused(action: str) -> None:
    with pytest.raises(ValueError, match="dotted"), transaction.atomic():
        audit.record(actor=ACTOR, action=action)


@pytest.mark.django_db
def test_an_unsaved_target_is_refused() -> None:
    with pytest.raises(ValueError, match="no primary key"), transaction.atomic():
        audit.record(actor=ACTOR, action="tests.group.created", target=Group(name="draft"))


@pytest.mark.django_db
def test_text_with_nul_characters_is_stored_and_still_verifies() -> None:
    with transaction.atomic():
        written = audit.record(
            actor=ACTOR, action="tests.x.y", reason="a\x00b", after={"note": "c\x00d"}
        )

    stored = AuditEntry.objects.get(pk=written.pk)
    assert stored.reason == "a\ufffdb"
    assert stored.after == {"note": "c\ufffdd"}
    assert chain.compute_hash(chain.entry_payload(stored)) == stored.hash


@pytest.mark.django_db
def test_record_many_writes_one_chained_entry_per_item_that_the_verifier_accepts() -> None:
    actor = SystemActor("tests.batch")
    with transaction.atomic():
        audit.record(actor=actor, action="tests.single", target_type="t", target_id="0")
        written = audit.record_many(
            actor=actor,
            action="tests.batch",
            entries=[
                audit.Pending(target_type="t", target_id=str(n), after={"n": n}) for n in (1, 2, 3)
            ],
        )
    stored = list(AuditEntry.objects.order_by("seq"))
    assert [e.target_id for e in stored] == ["0", "1", "2", "3"]
    assert [e.prev_hash for e in stored[1:]] == [e.hash for e in stored[:-1]]
    assert written == 3
    assert verify_chain(anchors="none").problem is None


@pytest.mark.django_db(transaction=True)
def test_record_many_outside_a_transaction_is_refused_and_writes_nothing() -> None:
    with pytest.raises(RuntimeError, match=r"inside transaction\.atomic"):
        audit.record_many(
            actor=SystemActor("tests.batch"),
            action="tests.batch",
            entries=[audit.Pending(target_type="t", target_id="1")],
        )
    assert not AuditEntry.objects.exists()
