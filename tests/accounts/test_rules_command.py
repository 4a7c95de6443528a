"""`manage.py rules`: the jurisdiction rules in force for a country on a date (POLICY.md §7.1)."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command


def run(*args: str) -> str:
    out = StringIO()
    call_command("rules", *args, stdout=out)
    return out.getvalue()


def test_rules_for_france_on_1_september_2026_print_each_rule_with_its_source() -> None:
    out = run("--country", "FR", "--on", "2026-09-01")
    in_force = out.split("Changes after", 1)[0]
    assert "minimum age to hold an account: 13" in in_force
    assert "age of digital consent (GDPR art. 8)" in in_force
    assert ": 15" in in_force
    assert in_force.count("source: ") == 4
    proposed = out.split("Proposed, off until a date is set", 1)[1]
    assert "minimum age to hold an account (FR) = 15" in proposed
    assert "French bill" in proposed


def test_rules_for_australia_show_16_only_from_10_december_2025() -> None:
    assert "minimum age to hold an account: 13" in run("--country", "AU", "--on", "2025-12-09")
    assert "minimum age to hold an account: 16" in run("--country", "au", "--on", "2025-12-10")


def test_rules_list_the_changes_in_the_next_90_days() -> None:
    soon = run("--country", "AU", "--on", "2025-11-01").split("Changes after", 1)[1]
    assert "2025-12-10: minimum age to hold an account (AU) = 16 takes effect" in soon
    later = run("--country", "AU", "--on", "2025-11-01", "--days", "10").split("Changes after")[1]
    assert "takes effect" not in later.split("Proposed")[0]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--country", "XX"), "not an ISO 3166-1 alpha-2 country code"),
        (("--country", "FR", "--on", "2026-02-30"), "YYYY-MM-DD"),
        (("--country", "FR", "--days", "-1"), "--days"),
    ],
)
def test_rules_refuse_bad_input_with_a_message(args: tuple[str, ...], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        run(*args)
