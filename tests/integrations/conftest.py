"""Fixtures: a local Transparency Database on a real socket, and many statements of reasons."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from moderation.models import Case, Decision, StatementOfReasons
from safety_portal.core import clock
from tests.factories.messaging import person
from tests.factories.moderation import decided, decision_copies, report_user, staff

from .tdb_server import TOKEN, TransparencyDatabase


@pytest.fixture
def tdb(settings) -> Iterator[TransparencyDatabase]:
    server = TransparencyDatabase()
    server.start()
    settings.TRANSPARENCY_DB_URL = server.base_url
    settings.TRANSPARENCY_DB_TOKEN = TOKEN
    settings.TRANSPARENCY_DB_TIMEOUT_SECONDS = 2
    yield server
    server.stop()


MakeStatements = Callable[..., list[StatementOfReasons]]


@pytest.fixture
def make_statements(db: None) -> MakeStatements:
    """`make_statements(n, bad=(i, ...))`: n stored statements (one real decision through the
    service, copied with its decided case so that hundreds are quick: a case holds one standing
    decision); those at positions `bad` carry a decision ground the database refuses."""

    def make(count: int, *, bad: tuple[int, ...] = ()) -> list[StatementOfReasons]:
        assert 0 not in bad, "the first statement is the real one"
        moderator = staff("Moderator")
        decision = decided(
            report_user(person(25), reporter=person(31)).case, moderator, "suspend", days=7
        )
        template = StatementOfReasons.objects.get(decision=decision)
        case_fields = Case.objects.filter(pk=decision.case_id).values().get()
        case_fields.pop("id")
        cases = Case.objects.bulk_create([Case(**case_fields) for _ in range(count - 1)])
        twins = Decision.objects.bulk_create(
            decision_copies(decision, [{"case_id": case.pk} for case in cases])
        )
        now = clock.now()
        rows = []
        for index, twin in enumerate(twins, start=1):
            payload = dict(template.payload, puid=f"sp-decision-{twin.public_id}")
            if index in bad:
                payload["decision_ground"] = "DECISION_GROUND_NOT_A_GROUND"
            rows.append(
                StatementOfReasons(
                    decision=twin, puid=payload["puid"], payload=payload, created_at=now
                )
            )
        made = [template, *StatementOfReasons.objects.bulk_create(rows)]
        return made

    return make
