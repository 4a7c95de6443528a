"""Safety settings: tier ceilings on writes, clamping when a lower tier is found later (POLICY.md §3)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from accounts.events import restrictions_tightened
from accounts.facts import facts_of
from accounts.models import BirthdateChangeRequest, SafetySettings, User
from safety_portal import rules
from safety_portal.core import clock
from safety_portal.core.audit.models import AuditEntry
from safety_portal.core.errors import DomainError, PolicyViolation
from safety_portal.rules.vocabulary import Audience, Reason, Tier
from tests.factories.accounts import birthdate_for_age

pytestmark = pytest.mark.django_db


def stored(user: User) -> dict[str, object]:
    row = SafetySettings.objects.get(user=user)
    return {name: getattr(row, name) for name in rules.safety_settings.SETTING_NAMES}


@pytest.fixture
def tightened() -> Iterator[list[User]]:
    received: list[User] = []

    def receiver(sender: object, user: User, actor: object, **kwargs: object) -> None:
        received.append(user)

    restrictions_tightened.connect(receiver, dispatch_uid="tests.accounts.tightened")
    yield received
    restrictions_tightened.disconnect(dispatch_uid="tests.accounts.tightened")


@pytest.mark.parametrize(
    ("user_fixture", "values", "reason"),
    [
        ("teen", {"dm_setting": "friends"}, Reason.SETTING_LOCKED_FOR_TIER),
        ("teen", {"dm_setting": "everyone"}, Reason.SETTING_LOCKED_FOR_TIER),
        ("teen", {"duet_setting": "friends"}, Reason.SETTING_LOCKED_FOR_TIER),
        ("teen", {"download_setting": True}, Reason.SETTING_LOCKED_FOR_TIER),
        ("teen", {"comment_setting": "everyone"}, Reason.SETTING_ABOVE_TIER_CEILING),
        ("older_teen", {"dm_setting": "everyone"}, Reason.SETTING_ABOVE_TIER_CEILING),
        # One refused value refuses the whole write, allowed values included.
        (
            "older_teen",
            {"private_account": False, "dm_setting": "everyone"},
            Reason.SETTING_ABOVE_TIER_CEILING,
        ),
    ],
)
def test_loosening_beyond_the_tier_ceiling_is_refused_with_a_reason_and_changes_nothing(
    request: pytest.FixtureRequest,
    audit_entries: Callable[..., list[AuditEntry]],
    system: object,
    user_fixture: str,
    values: dict[str, object],
    reason: Reason,
) -> None:
    user: User = request.getfixturevalue(user_fixture)
    before, entries = stored(user), len(audit_entries())

    with pytest.raises(PolicyViolation) as refused:
        SafetySettings.objects.change(user, actor=user, **values)

    assert refused.value.code == reason
    assert stored(user) == before
    assert len(audit_entries()) == entries


def test_an_older_teen_may_open_dms_to_friends_and_duets_to_everyone(
    older_teen: User, audit_entries: Callable[..., list[AuditEntry]]
) -> None:
    SafetySettings.objects.change(
        older_teen, actor=older_teen, dm_setting="friends", duet_setting="everyone"
    )

    assert stored(older_teen)["dm_setting"] == "friends"
    [entry] = audit_entries("accounts.settings.changed")
    assert entry.before == {"dm_setting": "nobody", "duet_setting": "friends"}
    assert entry.after == {"dm_setting": "friends", "duet_setting": "everyone"}


def test_an_adult_may_open_dms_to_everyone(adult: User) -> None:
    SafetySettings.objects.change(adult, actor=adult, dm_setting="everyone")

    assert stored(adult)["dm_setting"] == "everyone"


@pytest.mark.parametrize(
    "values",
    [
        {"comment_setting": "nobody"},
        {"private_account": True},  # already private: a no-op is allowed and writes nothing
        {"suggest_account": False},
    ],
)
def test_a_young_teen_may_always_tighten(teen: User, values: dict[str, object]) -> None:
    SafetySettings.objects.change(teen, actor=teen, **values)

    assert {k: stored(teen)[k] for k in values} == values


def test_tightening_is_audited_and_announced(
    older_teen: User,
    system: object,
    audit_entries: Callable[..., list[AuditEntry]],
    tightened: list[User],
) -> None:
    SafetySettings.objects.change(older_teen, actor=system, duet_setting="nobody")

    [entry] = audit_entries("accounts.settings.changed")
    assert entry.before == {"duet_setting": "friends"}
    assert entry.after == {"duet_setting": "nobody"}
    assert entry.actor_kind == "system"
    assert tightened == [older_teen]


@pytest.mark.parametrize(
    "values",
    [{"private_account": True}, {"download_setting": False}, {"suggest_account": False}],
)
def test_a_protective_boolean_counts_as_tightening(
    adult: User, tightened: list[User], values: dict[str, object]
) -> None:
    SafetySettings.objects.change(adult, actor=adult, **values)

    assert tightened == [adult]


def test_loosening_within_the_ceiling_is_not_announced_as_tightening(
    adult: User, tightened: list[User]
) -> None:
    SafetySettings.objects.change(adult, actor=adult, dm_setting="everyone")

    assert tightened == []


def test_writing_the_current_values_writes_no_audit_entry(
    teen: User, audit_entries: Callable[..., list[AuditEntry]]
) -> None:
    SafetySettings.objects.change(teen, actor=teen, dm_setting="nobody", private_account=True)

    assert audit_entries("accounts.settings.changed") == []


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"dm_setting": "mutuals"}, "dm_setting"),
        ({"private_account": "yes"}, "private_account"),
        ({"livestream": True}, "livestream"),
    ],
)
def test_bad_setting_names_and_values_are_field_errors(
    adult: User, values: dict[str, object], field: str
) -> None:
    before = stored(adult)

    with pytest.raises(DomainError) as refused:
        SafetySettings.objects.change(adult, actor=adult, **values)

    assert refused.value.code == "invalid"
    assert field in refused.value.fields
    assert stored(adult) == before


def test_a_lower_tier_found_later_moves_the_stored_settings_within_its_ceiling(
    system: object, audit_entries: Callable[..., list[AuditEntry]]
) -> None:
    """POLICY.md §3: the effective value is the most restrictive of the tier ceiling and the
    user's own setting. A 16-year-old who opened DMs, duets and suggestions is corrected to 14:
    the stored row moves within the young-teen ceiling in the same transaction (the database
    refuses a row above it, issue 11.5), and the birthdate entry says what moved."""
    user = User.objects.create_app_user(
        actor=system, username="corrected_kid", birthdate=birthdate_for_age(16), country="GB"
    )
    SafetySettings.objects.change(
        user, actor=user, dm_setting="friends", duet_setting="everyone", suggest_account=True
    )

    BirthdateChangeRequest.objects.submit(
        user=user,
        new_birthdate=birthdate_for_age(14),
        method=rules.vocabulary.AssuranceMethod.GUARDIAN_VOUCH,
        evidence_reference="ticket:991",
        reason="Parent says the account holder is 14.",
        actor=system,
    )

    today = clock.today()
    assert user.tier(today) is Tier.YOUNG_TEEN
    row = stored(user)
    assert (row["dm_setting"], row["duet_setting"], row["suggest_account"]) == (
        "nobody",
        "nobody",
        False,
    )
    assert row["private_account"] is True  # 13-15: public only with a guardian's approval
    assert len(audit_entries("accounts.settings.changed")) == 1  # only the user's own change
    [entry] = audit_entries("accounts.birthdate.change_applied")
    row_keys = ("dm_setting", "duet_setting", "suggest_account")
    moved = {n: (entry.before["settings"][n], entry.after["settings"][n]) for n in row_keys}
    assert moved == {
        "dm_setting": ("friends", "nobody"),
        "duet_setting": ("everyone", "nobody"),
        "suggest_account": (True, False),
    }

    caps = rules.capabilities.capabilities(facts_of(user, at=clock.now(), on=today), on=today)
    assert caps["direct_messages"].allowed is False
    assert caps["direct_messages"].reason is Reason.TIER_NOT_ELIGIBLE
    assert (caps["duet_stitch"].allowed, caps["duet_stitch"].value) == (False, Audience.NOBODY)
    assert (caps["suggest_account"].allowed, caps["suggest_account"].value) == (False, False)


def test_after_a_lower_tier_is_found_other_settings_can_still_change(system: object) -> None:
    user = User.objects.create_app_user(
        actor=system, username="corrected_kid", birthdate=birthdate_for_age(17), country="GB"
    )
    SafetySettings.objects.change(user, actor=user, dm_setting="friends")
    BirthdateChangeRequest.objects.submit(
        user=user,
        new_birthdate=birthdate_for_age(15),
        method="self_declared",
        evidence_reference="",
        reason="Typed the wrong year.",
        actor=user,
    )

    SafetySettings.objects.change(user, actor=user, comment_setting="nobody")
    with pytest.raises(PolicyViolation):
        SafetySettings.objects.change(user, actor=user, duet_setting="everyone")

    assert stored(user)["comment_setting"] == "nobody"
    assert stored(user)["dm_setting"] == "nobody"  # moved within the 13-15 ceiling


def test_the_ceiling_is_taken_from_the_current_birthdate_not_a_stale_instance(
    system: object,
) -> None:
    """A caller holding an old copy of the user (still 16) cannot open DMs after a correction."""
    user = User.objects.create_app_user(
        actor=system, username="stale_copy", birthdate=birthdate_for_age(16), country="GB"
    )
    stale = User.objects.get(pk=user.pk)
    BirthdateChangeRequest.objects.submit(
        user=user,
        new_birthdate=birthdate_for_age(14),
        method="self_declared",
        evidence_reference="",
        reason="Younger than declared.",
        actor=system,
    )

    with pytest.raises(PolicyViolation) as refused:
        SafetySettings.objects.change(stale, actor=stale, dm_setting="friends")

    assert refused.value.code == Reason.SETTING_LOCKED_FOR_TIER


def test_staff_have_no_safety_settings(senior: User) -> None:
    with pytest.raises(DomainError):
        SafetySettings.objects.change(senior, actor=senior, dm_setting="nobody")
