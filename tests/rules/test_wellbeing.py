"""Which cases' message bodies are blurred until revealed (safety_portal/rules/wellbeing.py)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from safety_portal.rules.sor_vocabulary import Category, CategoryKeyword
from safety_portal.rules.wellbeing import is_harmful


@pytest.mark.parametrize(
    "category", [Category.SELF_HARM, Category.VIOLENCE, Category.PROTECTION_OF_MINORS]
)
def test_self_harm_violence_and_minors_cases_are_shielded(category: Category) -> None:
    assert is_harmful(category)


@pytest.mark.parametrize(
    "category", [Category.SCAMS_AND_FRAUD, Category.INTELLECTUAL_PROPERTY_INFRINGEMENTS]
)
def test_a_scam_or_copyright_case_is_not(category: Category) -> None:
    assert not is_harmful(category)


@pytest.mark.parametrize(
    "keyword",
    [
        CategoryKeyword.CHILD_SEXUAL_ABUSE_MATERIAL,
        CategoryKeyword.GROOMING_SEXUAL_ENTICEMENT_MINORS,
        CategoryKeyword.SUICIDE,
        CategoryKeyword.SELF_MUTILATION,
        CategoryKeyword.INCITEMENT_VIOLENCE_HATRED,
    ],
)
def test_a_harmful_keyword_shields_a_case_of_any_category(keyword: CategoryKeyword) -> None:
    assert is_harmful(Category.CYBER_VIOLENCE, [CategoryKeyword.CYBER_HARASSMENT, keyword])
    assert not is_harmful(Category.CYBER_VIOLENCE, [CategoryKeyword.CYBER_HARASSMENT])


@given(
    st.sampled_from(sorted(Category)),
    st.lists(st.sampled_from(sorted(CategoryKeyword)), max_size=4),
    st.sampled_from(sorted(CategoryKeyword)),
)
def test_adding_a_keyword_never_lifts_the_shield(
    category: Category, keywords: list[CategoryKeyword], more: CategoryKeyword
) -> None:
    if is_harmful(category, keywords):
        assert is_harmful(category, [*keywords, more])
