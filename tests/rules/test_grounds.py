"""The ground a decision form suggests for a case (safety_portal/rules/grounds.py, issue 15.2)."""

from __future__ import annotations

import pytest

from safety_portal.rules.grounds import GROUNDS, suggested_ground
from safety_portal.rules.sor_vocabulary import Category, CategoryKeyword


@pytest.mark.parametrize(
    ("category", "keywords", "expected"),
    [
        (Category.PROTECTION_OF_MINORS, [], "tc_minor_safety"),
        (
            Category.PROTECTION_OF_MINORS,
            [CategoryKeyword.GROOMING_SEXUAL_ENTICEMENT_MINORS],
            "tc_minor_safety",
        ),
        (
            Category.PROTECTION_OF_MINORS,
            [CategoryKeyword.CHILD_SEXUAL_ABUSE_MATERIAL],
            "law_child_sexual_abuse",
        ),
        (
            Category.PROTECTION_OF_MINORS,
            [
                CategoryKeyword.GROOMING_SEXUAL_ENTICEMENT_MINORS,
                CategoryKeyword.CHILD_SEXUAL_ABUSE_MATERIAL_DEEPFAKE,
            ],
            "law_child_sexual_abuse",
        ),
        (Category.CYBER_VIOLENCE, [CategoryKeyword.CYBER_HARASSMENT], "tc_harassment"),
        (Category.CYBER_VIOLENCE_AGAINST_WOMEN, [], "tc_harassment"),
        (Category.ILLEGAL_OR_HARMFUL_SPEECH, [CategoryKeyword.HATE_SPEECH], "tc_hate"),
        (Category.SELF_HARM, [], "tc_self_harm"),
        (Category.VIOLENCE, [], "tc_violence"),
        (Category.SCAMS_AND_FRAUD, [], "tc_scams"),
        (Category.DATA_PROTECTION_AND_PRIVACY_VIOLATIONS, [], "tc_privacy"),
    ],
)
def test_a_case_suggests_the_ground_its_category_usually_cites(
    category: str, keywords: list[str], expected: str
) -> None:
    assert suggested_ground(category, keywords) == expected


@pytest.mark.parametrize(
    "category",
    [
        Category.INTELLECTUAL_PROPERTY_INFRINGEMENTS,
        Category.OTHER_VIOLATION_TC,
        Category.NOT_SPECIFIED_NOTICE,
        "STATEMENT_CATEGORY_NOT_A_CATEGORY",
    ],
)
def test_a_category_without_a_clause_of_its_own_suggests_nothing(category: str) -> None:
    assert suggested_ground(category, []) == ""


def test_a_keyword_for_illegal_material_wins_whatever_the_category() -> None:
    assert (
        suggested_ground(Category.OTHER_VIOLATION_TC, [CategoryKeyword.CHILD_SEXUAL_ABUSE_MATERIAL])
        == "law_child_sexual_abuse"
    )


def test_every_suggestion_is_a_ground_a_decision_may_cite() -> None:
    for category in Category:
        for keywords in ([], list(CategoryKeyword)):
            ground = suggested_ground(category, keywords)
            assert ground == "" or ground in GROUNDS, (category, ground)
