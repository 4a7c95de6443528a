"""Anchoring the chain head outside the database (issue 7): idempotent, append-only, and loud
when the chain contradicts an anchor."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest
import redis
from django.db import connection

from safety_portal.core import clock
from safety_portal.core.audit import anchors
from safety_portal.core.audit.tasks import anchor_audit_chain

from .conftest import as_superuser_bypassing_triggers, write_entries

pytestmark = pytest.mark.django_db


def _file_lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def _stream(settings) -> list[tuple[str, dict]]:
    client = redis.Redis.from_url(settings.REDIS_URL, decode_responses=True)
    try:
        return client.xrange(settings.AUDIT_ANCHOR_STREAM)
    finally:
        client.close()


def test_the_task_anchors_the_head_once_however_often_it_runs(
    anchor_file: Path, settings, redis_url: str
) -> None:
    entries = write_entries(3)
    head = entries[-1]

    anchor_audit_chain.apply().get()
    anchor_audit_chain.apply().get()
    anchor_audit_chain.apply().get()

    [line] = _file_lines(anchor_file)
    assert (line["seq"], line["entry_id"], line["hash"]) == (3, head.pk, head.hash)
    assert line["database"] == connection.settings_dict["NAME"]
    assert line["anchored_at"].startswith(clock.today().isoformat())
    [(stream_id, fields)] = _stream(settings)
    assert stream_id == "3-0"
    assert (fields["seq"], fields["entry_id"], fields["hash"]) == ("3", str(head.pk), head.hash)


def test_a_moved_head_is_appended_and_earlier_anchors_are_left_byte_for_byte(
    anchor_file: Path, settings, redis_url: str
) -> None:
    write_entries(2)
    first = anchors.anchor_chain()
    before = anchor_file.read_bytes()
    write_entries(2)

    second = anchors.anchor_chain()

    assert (
        first.written
        == second.written
        == [
            f"redis stream {settings.AUDIT_ANCHOR_STREAM}",
            f"file {anchor_file}",
        ]
    )
    after = anchor_file.read_bytes()
    assert after.startswith(before)
    assert [line["seq"] for line in _file_lines(anchor_file)] == [2, 4]
    assert [stream_id for stream_id, _ in _stream(settings)] == ["2-0", "4-0"]


def test_the_anchor_file_is_only_ever_opened_for_appending(anchor_file: Path, monkeypatch) -> None:
    opened: list[int] = []
    real_open = os.open

    def spy(path, flags, *args):
        if Path(path) == anchor_file and flags & (os.O_WRONLY | os.O_RDWR):
            opened.append(flags)
        return real_open(path, flags, *args)

    monkeypatch.setattr(os, "open", spy)
    write_entries(1)
    anchors.anchor_chain()
    write_entries(1)
    anchors.anchor_chain()

    assert len(opened) == 2
    assert all(flags & os.O_APPEND for flags in opened)
    assert not any(flags & os.O_TRUNC for flags in opened)


def test_the_anchor_directory_is_created(anchor_file: Path) -> None:
    assert not anchor_file.parent.exists()
    write_entries(1)

    anchors.anchor_chain(stores=[anchors.FileAnchorStore(anchor_file)])

    assert len(_file_lines(anchor_file)) == 1


def test_an_empty_log_anchors_nothing(anchor_file: Path) -> None:
    outcome = anchor_audit_chain.apply().get()

    assert outcome == {"head": None, "written": [], "already": []}
    assert not anchor_file.exists()


def test_a_torn_last_line_does_not_block_new_anchors(anchor_file: Path) -> None:
    anchor_file.parent.mkdir(parents=True)
    anchor_file.write_bytes(b'{"seq": 1, "entr')  # a crash mid-write
    write_entries(1)

    anchors.anchor_chain(stores=[anchors.FileAnchorStore(anchor_file)])

    raw = anchor_file.read_bytes().split(b"\n")
    assert raw[0] == b'{"seq": 1, "entr'
    assert json.loads(raw[1])["seq"] == 1


def test_concurrent_anchoring_of_one_head_writes_it_once(
    anchor_file: Path, settings, redis_url: str
) -> None:
    [head] = write_entries(1)
    anchor = anchors.Anchor(seq=1, entry_id=head.pk, hash=head.hash, anchored_at="now")
    stores = [
        anchors.FileAnchorStore(anchor_file),
        anchors.RedisAnchorStore(redis_url, settings.AUDIT_ANCHOR_STREAM),
    ]
    results: list[bool] = []
    start = threading.Barrier(8)

    def anchor_both() -> None:
        start.wait()
        for store in stores:
            results.append(store.append(anchor))

    threads = [threading.Thread(target=anchor_both) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(results) == [False] * 14 + [True] * 2
    assert len(_file_lines(anchor_file)) == 1
    assert len(_stream(settings)) == 1


@pytest.mark.parametrize("store", ["file", "redis"])
def test_anchoring_a_chain_that_contradicts_the_newest_anchor_raises_a_conflict(
    store: str, anchor_file: Path, settings, request: pytest.FixtureRequest
) -> None:
    if store == "redis":
        request.getfixturevalue("redis_url")
        stores = [anchors.RedisAnchorStore(settings.REDIS_URL, settings.AUDIT_ANCHOR_STREAM)]
    else:
        stores = [anchors.FileAnchorStore(anchor_file)]
    write_entries(3)
    anchors.anchor_chain(stores=stores)
    with as_superuser_bypassing_triggers() as cursor:
        cursor.execute("DELETE FROM audit_auditentry WHERE seq = 3")

    with pytest.raises(anchors.AnchorConflict, match="newest anchor records #3"):
        anchors.anchor_chain(stores=stores)


def test_an_unreachable_redis_still_anchors_to_the_file_and_the_retry_fills_the_stream(
    anchor_file: Path, settings, redis_url: str
) -> None:
    write_entries(2)
    settings.REDIS_URL = "redis://127.0.0.1:1/0"

    with pytest.raises(anchors.AnchorStoreUnavailable):
        anchors.anchor_chain()
    assert [line["seq"] for line in _file_lines(anchor_file)] == [2]

    settings.REDIS_URL = redis_url
    outcome = anchors.anchor_chain()

    assert outcome.written == [f"redis stream {settings.AUDIT_ANCHOR_STREAM}"]
    assert outcome.already == [f"file {anchor_file}"]
    assert len(_file_lines(anchor_file)) == 1
    assert [stream_id for stream_id, _ in _stream(settings)] == ["2-0"]


def test_the_task_is_registered_under_the_name_beat_uses() -> None:
    from safety_portal.celery import app

    assert "safety_portal.core.audit.tasks.anchor_audit_chain" in app.tasks
    assert anchor_audit_chain.acks_late is True
    assert anchor_audit_chain.reject_on_worker_lost is True
