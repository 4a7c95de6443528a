"""Specification of the statement-of-reasons schema (POLICY.md section 6, DSA art. 17 / 24(5)).

Pure tests: no database, no Django. Each rule has a statement that breaks it and an assertion
that the error names the field at fault.
"""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from safety_portal.rules.sor_schema import (
    SchemaError,
    find_personal_data,
    validate_batch,
    validate_statement,
)
from safety_portal.rules.sor_vocabulary import (
    BATCH_MAX_STATEMENTS,
    CONTENT_LANGUAGES,
    EU_EEA_COUNTRIES,
    MINORS_KEYWORDS,
    REQUIRED_FIELDS,
    STATEMENT_FIELDS,
    TEXT_LIMITS,
    WITHDRAWN_CATEGORIES,
    WITHDRAWN_KEYWORDS,
    AccountType,
    AutomatedDecision,
    AutomatedDetection,
    Category,
    CategoryKeyword,
    ContentType,
    DecisionAccount,
    DecisionGround,
    DecisionMonetary,
    DecisionProvision,
    DecisionVisibility,
    IncompatibleContentIllegal,
    SourceType,
)

# --- Realistic statements -------------------------------------------------------------------


def illegal_statement(**changes: Any) -> dict[str, Any]:
    """A grooming message removed as illegal content, reported by a user (art. 16)."""
    statement: dict[str, Any] = {
        "decision_visibility": [DecisionVisibility.CONTENT_REMOVED],
        "decision_ground": DecisionGround.ILLEGAL_CONTENT,
        "illegal_content_legal_ground": "Directive 2011/93/EU, art. 6",
        "illegal_content_explanation": "The message solicited a child to meet for sexual purposes.",
        "content_type": [ContentType.TEXT],
        "category": Category.PROTECTION_OF_MINORS,
        "category_specification": [CategoryKeyword.GROOMING_SEXUAL_ENTICEMENT_MINORS],
        "territorial_scope": sorted(EU_EEA_COUNTRIES),
        "content_language": "EN",
        "content_date": "2025-07-03",
        "application_date": "2025-07-04",
        "decision_facts": "A direct message from an adult account to a minor asked to meet alone.",
        "source_type": SourceType.ARTICLE_16,
        "automated_detection": AutomatedDetection.NO,
        "automated_decision": AutomatedDecision.NOT_AUTOMATED,
        "puid": "sor-2025-07-04-000001",
    }
    statement.update(changes)
    return statement


def incompatible_statement(**changes: Any) -> dict[str, Any]:
    """An account suspended for a week under our terms, found by our own classifier."""
    statement: dict[str, Any] = {
        "decision_account": DecisionAccount.SUSPENDED,
        "end_date_account_restriction": "2025-07-11",
        "account_type": AccountType.PRIVATE,
        "decision_ground": DecisionGround.INCOMPATIBLE_CONTENT,
        "incompatible_content_ground": "Community Guidelines, section 4.2 (bullying)",
        "incompatible_content_explanation": "Repeated insults aimed at another member.",
        "incompatible_content_illegal": IncompatibleContentIllegal.NO,
        "content_type": [ContentType.TEXT, ContentType.IMAGE],
        "category": Category.CYBER_VIOLENCE,
        "territorial_scope": ["DE", "FR"],
        "content_date": "2025-07-01",
        "application_date": "2025-07-04",
        "decision_facts": "Five comments in one day targeted the same member with insults.",
        "source_type": SourceType.VOLUNTARY,
        "automated_detection": AutomatedDetection.YES,
        "automated_decision": AutomatedDecision.PARTIALLY,
        "puid": "sor-2025-07-04-000002",
    }
    statement.update(changes)
    return statement


def rich_statement(**changes: Any) -> dict[str, Any]:
    """Every optional field in use at once, including every 'other' free-text field."""
    statement = illegal_statement(
        decision_visibility=[DecisionVisibility.CONTENT_DISABLED, DecisionVisibility.OTHER],
        decision_visibility_other="Hidden from search results",
        end_date_visibility_restriction="2025-08-04",
        decision_monetary=DecisionMonetary.OTHER,
        decision_monetary_other="Gifts received during the live stream withheld",
        end_date_monetary_restriction="2025-08-04",
        decision_provision=DecisionProvision.PARTIAL_SUSPENSION,
        end_date_service_restriction="2025-07-18",
        decision_account=DecisionAccount.SUSPENDED,
        end_date_account_restriction="2025-10-04",
        account_type=AccountType.BUSINESS,
        decision_ground_reference_url="https://eur-lex.europa.eu/eli/dir/2011/93/oj",
        content_type=[ContentType.VIDEO, ContentType.OTHER],
        content_type_other="Live stream",
        category_addition=[Category.CYBER_VIOLENCE],
        category_specification=[CategoryKeyword.UNSAFE_CHALLENGES, CategoryKeyword.OTHER],
        category_specification_other="Dangerous stunt dare",
        content_id={"EAN-13": "4006381333931"},
        source_type=SourceType.TRUSTED_FLAGGER,
        source_identity="A trusted flagger designated under art. 22 DSA",
    )
    statement.update(changes)
    return statement


def fields_of(errors: list[SchemaError]) -> set[str]:
    return {error.field for error in errors}


def without(statement: dict[str, Any], *fields: str) -> dict[str, Any]:
    return {key: value for key, value in statement.items() if key not in fields}


# --- Valid statements -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "statement",
    [illegal_statement(), incompatible_statement()],
    ids=["illegal_content", "incompatible_content"],
)
def test_a_minimal_statement_passes_for_each_decision_ground(statement: dict[str, Any]) -> None:
    assert validate_statement(statement) == []


def test_a_statement_using_every_optional_field_passes() -> None:
    assert validate_statement(rich_statement()) == []


def test_explicit_nulls_count_as_absent_optional_fields() -> None:
    statement = illegal_statement(account_type=None, decision_monetary=None, source_identity=None)

    assert validate_statement(statement) == []


def test_plain_strings_are_as_good_as_enum_members() -> None:
    statement = {
        key: ([str(item) for item in value] if isinstance(value, list) else value)
        for key, value in illegal_statement().items()
    }
    statement["decision_ground"] = "DECISION_GROUND_ILLEGAL_CONTENT"

    assert validate_statement(statement) == []


def test_every_minors_keyword_is_accepted_under_protection_of_minors() -> None:
    statement = illegal_statement(category_specification=sorted(MINORS_KEYWORDS))

    assert validate_statement(statement) == []
    assert {
        "KEYWORD_AGE_SPECIFIC_RESTRICTIONS_MINORS",
        "KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL",
        "KEYWORD_GROOMING_SEXUAL_ENTICEMENT_MINORS",
        "KEYWORD_UNSAFE_CHALLENGES",
    } <= set(MINORS_KEYWORDS)


def test_schema_error_is_an_immutable_value() -> None:
    error = SchemaError("puid", "is required")

    with pytest.raises(dataclasses.FrozenInstanceError):
        error.field = "other"  # type: ignore[misc]
    assert error == SchemaError("puid", "is required")


# --- Required fields and unknown fields -----------------------------------------------------


@pytest.mark.parametrize("field", sorted(REQUIRED_FIELDS))
def test_a_missing_required_field_is_named(field: str) -> None:
    errors = validate_statement(without(illegal_statement(), field))

    assert field in fields_of(errors)


@pytest.mark.parametrize("field", ["decision_facts", "puid", "illegal_content_explanation"])
def test_blank_text_counts_as_missing(field: str) -> None:
    errors = validate_statement(illegal_statement(**{field: "   "}))

    assert field in fields_of(errors)


def test_unknown_field_is_rejected() -> None:
    errors = validate_statement(illegal_statement(reporter_email="x@example.org"))

    assert fields_of(errors) == {"reporter_email"}


def test_a_statement_that_is_not_an_object_is_rejected() -> None:
    assert validate_statement(["not", "a", "dict"]) == [  # type: ignore[arg-type]
        SchemaError("", "a statement must be an object")
    ]


def test_every_problem_is_reported_not_just_the_first() -> None:
    errors = validate_statement(illegal_statement(puid="bad puid", content_language="english"))

    assert {"puid", "content_language"} <= fields_of(errors)


# --- Decision grounds -----------------------------------------------------------------------


@pytest.mark.parametrize("field", ["illegal_content_legal_ground", "illegal_content_explanation"])
def test_illegal_content_ground_requires_its_legal_ground_and_explanation(field: str) -> None:
    errors = validate_statement(without(illegal_statement(), field))

    assert field in fields_of(errors)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("incompatible_content_ground", "Terms, section 1"),
        ("incompatible_content_explanation", "Against our terms."),
        ("incompatible_content_illegal", "Yes"),
    ],
)
def test_illegal_content_ground_rejects_terms_fields(field: str, value: str) -> None:
    errors = validate_statement(illegal_statement(**{field: value}))

    assert fields_of(errors) == {field}


@pytest.mark.parametrize(
    "field", ["incompatible_content_ground", "incompatible_content_explanation"]
)
def test_incompatible_content_ground_requires_its_contract_ground_and_explanation(
    field: str,
) -> None:
    errors = validate_statement(without(incompatible_statement(), field))

    assert field in fields_of(errors)


@pytest.mark.parametrize("field", ["illegal_content_legal_ground", "illegal_content_explanation"])
def test_incompatible_content_ground_rejects_legal_fields(field: str) -> None:
    errors = validate_statement(incompatible_statement(**{field: "Some law"}))

    assert fields_of(errors) == {field}


def test_incompatible_content_illegal_is_optional_and_only_yes_or_no() -> None:
    assert (
        validate_statement(without(incompatible_statement(), "incompatible_content_illegal")) == []
    )
    errors = validate_statement(incompatible_statement(incompatible_content_illegal="Maybe"))

    assert fields_of(errors) == {"incompatible_content_illegal"}


def test_unknown_decision_ground_is_rejected() -> None:
    errors = validate_statement(illegal_statement(decision_ground="ILLEGAL_CONTENT"))

    assert "decision_ground" in fields_of(errors)


@pytest.mark.parametrize("url", ["eur-lex.europa.eu/eli/reg/2022/2065", "ftp://x.eu/a", "https://"])
def test_decision_ground_reference_url_must_be_a_web_address(url: str) -> None:
    errors = validate_statement(illegal_statement(decision_ground_reference_url=url))

    assert fields_of(errors) == {"decision_ground_reference_url"}


# --- Restrictions ---------------------------------------------------------------------------


def test_a_statement_without_any_restriction_is_rejected_naming_all_four() -> None:
    errors = validate_statement(without(illegal_statement(), "decision_visibility"))

    assert fields_of(errors) == {
        "decision_visibility",
        "decision_monetary",
        "decision_provision",
        "decision_account",
    }


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("decision_monetary", DecisionMonetary.SUSPENSION),
        ("decision_provision", DecisionProvision.TOTAL_TERMINATION),
        ("decision_account", DecisionAccount.TERMINATED),
    ],
)
def test_any_single_restriction_is_enough(field: str, value: str) -> None:
    statement = without(illegal_statement(), "decision_visibility")
    statement[field] = value

    assert validate_statement(statement) == []


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("decision_visibility", ["DECISION_VISIBILITY_SHADOW_BAN"]),
        ("decision_monetary", "DECISION_MONETARY_FINE"),
        ("decision_provision", "DECISION_PROVISION_SUSPENDED"),
        ("decision_account", "DECISION_ACCOUNT_BANNED"),
        ("account_type", "ACCOUNT_TYPE_CHILD"),
    ],
)
def test_restriction_values_outside_the_schema_are_rejected(field: str, value: object) -> None:
    statement = illegal_statement(**{field: value})

    assert field in fields_of(validate_statement(statement))


def test_visibility_other_requires_its_description() -> None:
    statement = illegal_statement(decision_visibility=[DecisionVisibility.OTHER])

    assert fields_of(validate_statement(statement)) == {"decision_visibility_other"}


def test_visibility_description_without_other_is_rejected() -> None:
    statement = illegal_statement(decision_visibility_other="Hidden from search")

    assert fields_of(validate_statement(statement)) == {"decision_visibility_other"}


def test_monetary_other_requires_its_description() -> None:
    statement = illegal_statement(decision_monetary=DecisionMonetary.OTHER)

    assert fields_of(validate_statement(statement)) == {"decision_monetary_other"}


def test_monetary_description_without_other_is_rejected() -> None:
    statement = illegal_statement(
        decision_monetary=DecisionMonetary.SUSPENSION, decision_monetary_other="Gifts withheld"
    )

    assert fields_of(validate_statement(statement)) == {"decision_monetary_other"}


@pytest.mark.parametrize(
    ("decision_field", "end_field"),
    [
        ("decision_visibility", "end_date_visibility_restriction"),
        ("decision_monetary", "end_date_monetary_restriction"),
        ("decision_provision", "end_date_service_restriction"),
        ("decision_account", "end_date_account_restriction"),
    ],
)
def test_an_end_date_needs_the_restriction_it_ends(decision_field: str, end_field: str) -> None:
    statement = without(rich_statement(), decision_field)
    if decision_field == "decision_visibility":
        statement = without(statement, "decision_visibility_other")
    if decision_field == "decision_monetary":
        statement = without(statement, "decision_monetary_other")

    assert fields_of(validate_statement(statement)) == {end_field}


def test_an_end_date_before_the_application_date_is_rejected() -> None:
    statement = incompatible_statement(end_date_account_restriction="2025-07-03")

    assert fields_of(validate_statement(statement)) == {"end_date_account_restriction"}


def test_an_end_date_on_the_application_date_is_accepted() -> None:
    statement = incompatible_statement(end_date_account_restriction="2025-07-04")

    assert validate_statement(statement) == []


# --- Content and classification -------------------------------------------------------------


def test_content_type_other_requires_its_description() -> None:
    statement = illegal_statement(content_type=[ContentType.OTHER])

    assert fields_of(validate_statement(statement)) == {"content_type_other"}


def test_content_type_description_without_other_is_rejected() -> None:
    statement = illegal_statement(content_type_other="Live stream")

    assert fields_of(validate_statement(statement)) == {"content_type_other"}


@pytest.mark.parametrize("category", sorted(WITHDRAWN_CATEGORIES))
def test_a_category_withdrawn_on_1_july_2025_is_rejected(category: str) -> None:
    errors = validate_statement(illegal_statement(category=category))

    assert fields_of(errors) == {"category"}
    assert "withdrawn" in errors[0].message


@pytest.mark.parametrize("category", sorted(WITHDRAWN_CATEGORIES))
def test_a_withdrawn_category_is_rejected_as_an_additional_category(category: str) -> None:
    errors = validate_statement(illegal_statement(category_addition=[category]))

    assert fields_of(errors) == {"category_addition"}


def test_withdrawn_values_are_not_members_of_the_current_enums() -> None:
    assert WITHDRAWN_CATEGORIES.isdisjoint(set(Category))
    assert WITHDRAWN_KEYWORDS.isdisjoint(set(CategoryKeyword))


def test_an_additional_category_repeating_the_main_one_is_rejected() -> None:
    statement = illegal_statement(category_addition=[Category.PROTECTION_OF_MINORS])

    assert fields_of(validate_statement(statement)) == {"category_addition"}


@pytest.mark.parametrize(
    "keyword", ["KEYWORD_GROOMING", "grooming", *sorted(WITHDRAWN_KEYWORDS)], ids=str
)
def test_category_specification_takes_only_current_keywords(keyword: str) -> None:
    statement = illegal_statement(category_specification=[keyword])

    assert fields_of(validate_statement(statement)) == {"category_specification"}


def test_keyword_other_text_without_keyword_other_is_rejected() -> None:
    statement = illegal_statement(category_specification_other="Dangerous stunt dare")

    assert fields_of(validate_statement(statement)) == {"category_specification_other"}


@pytest.mark.parametrize(
    "field", ["decision_visibility", "content_type", "category_specification", "territorial_scope"]
)
@pytest.mark.parametrize(
    "bad_value",
    [[], "DE", ("twice", "twice")],
    ids=["empty", "not_an_array", "duplicates"],
)
def test_arrays_must_be_non_empty_lists_without_duplicates(field: str, bad_value: Any) -> None:
    value = bad_value
    if isinstance(bad_value, tuple):
        value = [illegal_statement()[field][0]] * 2

    errors = validate_statement(illegal_statement(**{field: value}))

    assert field in fields_of(errors)


@pytest.mark.parametrize(
    "content_id",
    [{"ISBN": "9780000000002"}, {"EAN-13": "123"}, {"EAN-13": 4006381333931}, {}, "4006381333931"],
)
def test_content_id_accepts_only_an_ean13_product_number(content_id: object) -> None:
    errors = validate_statement(illegal_statement(content_id=content_id))

    assert fields_of(errors) == {"content_id"}


# --- Territory and language -----------------------------------------------------------------


@pytest.mark.parametrize("code", ["GB", "CH", "de", "EU", "XX"])
def test_territorial_scope_takes_only_eu_and_eea_country_codes(code: str) -> None:
    errors = validate_statement(illegal_statement(territorial_scope=["DE", code]))

    assert fields_of(errors) == {"territorial_scope"}


def test_territorial_scope_covers_the_eu_and_the_three_further_eea_states() -> None:
    assert len(EU_EEA_COUNTRIES) == 30
    assert {"IS", "LI", "NO"} <= EU_EEA_COUNTRIES


@pytest.mark.parametrize("code", ["en", "ENG", "XX", "English"])
def test_content_language_must_be_an_upper_case_iso_639_1_code(code: str) -> None:
    errors = validate_statement(illegal_statement(content_language=code))

    assert fields_of(errors) == {"content_language"}


def test_content_language_is_optional_and_covers_non_eu_languages() -> None:
    assert validate_statement(without(illegal_statement(), "content_language")) == []
    assert {"EN", "DE", "AR", "TR", "UK"} <= CONTENT_LANGUAGES


# --- Dates ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "field", ["content_date", "application_date", "end_date_visibility_restriction"]
)
@pytest.mark.parametrize(
    "value", ["2025-7-04", "2025/07/04", "20250704", "2025-07-04T10:00:00", "2025-02-30", 20250704]
)
def test_dates_must_be_real_calendar_days_written_yyyy_mm_dd(field: str, value: object) -> None:
    errors = validate_statement(illegal_statement(**{field: value}))

    assert field in fields_of(errors)


def test_content_date_before_2000_is_rejected() -> None:
    assert fields_of(validate_statement(illegal_statement(content_date="1999-12-31"))) == {
        "content_date"
    }
    assert validate_statement(illegal_statement(content_date="2000-01-01")) == []


def test_application_date_before_2020_is_rejected() -> None:
    statement = illegal_statement(content_date="2019-01-01", application_date="2019-12-31")

    assert fields_of(validate_statement(statement)) == {"application_date"}


def test_dates_after_the_2038_cap_are_rejected() -> None:
    statement = incompatible_statement(end_date_account_restriction="2038-01-02")

    assert fields_of(validate_statement(statement)) == {"end_date_account_restriction"}


# --- Source and automation ------------------------------------------------------------------


def test_own_initiative_decisions_must_not_name_a_source() -> None:
    statement = incompatible_statement(source_identity="Our classifier")

    assert fields_of(validate_statement(statement)) == {"source_identity"}


@pytest.mark.parametrize(
    "source", [SourceType.ARTICLE_16, SourceType.TRUSTED_FLAGGER, SourceType.OTHER_NOTIFICATION]
)
def test_a_notice_may_name_its_source_or_not(source: SourceType) -> None:
    assert validate_statement(illegal_statement(source_type=source)) == []
    assert (
        validate_statement(illegal_statement(source_type=source, source_identity="A flagger")) == []
    )


def test_unknown_source_type_is_rejected() -> None:
    errors = validate_statement(illegal_statement(source_type="SOURCE_REPORT"))

    assert fields_of(errors) == {"source_type"}


@pytest.mark.parametrize("value", ["yes", "YES", True, "AUTOMATED_DETECTION_YES"])
def test_automated_detection_is_exactly_yes_or_no(value: object) -> None:
    errors = validate_statement(illegal_statement(automated_detection=value))

    assert fields_of(errors) == {"automated_detection"}


@pytest.mark.parametrize("value", ["Yes", "No", "AUTOMATED_DECISION_MANUAL"])
def test_automated_decision_takes_only_the_three_automation_levels(value: str) -> None:
    errors = validate_statement(illegal_statement(automated_decision=value))

    assert fields_of(errors) == {"automated_decision"}


# --- Platform identifier and lengths --------------------------------------------------------


@pytest.mark.parametrize(
    "puid", ["has space", "dot.ted", "slash/ed", "new\nline", "trailing\n", "ümlaut", "a" * 501]
)
def test_puid_takes_ascii_letters_digits_hyphen_underscore_up_to_500(puid: str) -> None:
    errors = validate_statement(illegal_statement(puid=puid))

    assert fields_of(errors) == {"puid"}


def test_a_500_character_puid_is_accepted() -> None:
    assert validate_statement(illegal_statement(puid="A-_9" * 125)) == []


@pytest.mark.parametrize("field", sorted(TEXT_LIMITS))
def test_free_text_at_its_limit_passes_and_one_more_character_fails(field: str) -> None:
    limit = TEXT_LIMITS[field]
    base = rich_statement()
    if field.startswith("incompatible_"):
        base = incompatible_statement(
            decision_monetary=DecisionMonetary.OTHER, decision_monetary_other="x"
        )
    if field == "decision_ground_reference_url":
        at_limit = "https://example.eu/" + "a" * (limit - len("https://example.eu/"))
    elif field == "puid":
        at_limit = "p" * limit
    else:
        at_limit = "x" * limit

    assert validate_statement({**base, field: at_limit}) == []
    assert fields_of(validate_statement({**base, field: at_limit + "x"})) == {field}


def test_the_limits_are_the_commissions_numbers() -> None:
    assert TEXT_LIMITS["illegal_content_legal_ground"] == 500
    assert TEXT_LIMITS["illegal_content_explanation"] == 2000
    assert TEXT_LIMITS["incompatible_content_ground"] == 500
    assert TEXT_LIMITS["incompatible_content_explanation"] == 2000
    assert TEXT_LIMITS["decision_facts"] == 5000
    assert TEXT_LIMITS["puid"] == 500


# --- Batches --------------------------------------------------------------------------------


def batch_of(count: int) -> dict[str, Any]:
    return {"statements": [illegal_statement(puid=f"sor-{n:05d}") for n in range(count)]}


def test_a_batch_of_one_to_one_hundred_valid_statements_passes() -> None:
    assert validate_batch(batch_of(1)) == []
    assert validate_batch(batch_of(BATCH_MAX_STATEMENTS)) == []


@pytest.mark.parametrize("count", [0, BATCH_MAX_STATEMENTS + 1])
def test_a_batch_outside_one_to_one_hundred_statements_is_rejected(count: int) -> None:
    assert fields_of(validate_batch(batch_of(count))) == {"statements"}


@pytest.mark.parametrize("payload", [{}, {"statements": "none"}, {"statements": {"0": {}}}])
def test_a_batch_needs_an_array_of_statements(payload: dict[str, Any]) -> None:
    assert fields_of(validate_batch(payload)) == {"statements"}


def test_a_batch_rejects_fields_other_than_statements() -> None:
    payload = {**batch_of(1), "platform": "ours"}

    assert fields_of(validate_batch(payload)) == {"platform"}


def test_errors_inside_a_batch_are_prefixed_with_the_statement_position() -> None:
    payload = batch_of(3)
    del payload["statements"][2]["decision_facts"]
    payload["statements"][1] = "not a statement"

    assert fields_of(validate_batch(payload)) == {"statements[1]", "statements[2].decision_facts"}


def test_a_puid_repeated_within_a_batch_is_rejected() -> None:
    payload = batch_of(3)
    payload["statements"][2]["puid"] = payload["statements"][0]["puid"]

    errors = validate_batch(payload)

    assert fields_of(errors) == {"statements[2].puid"}
    assert "statements[0]" in errors[0].message


# --- Personal data --------------------------------------------------------------------------


def test_a_statement_naming_nobody_has_no_personal_data() -> None:
    statement = rich_statement()

    assert find_personal_data(statement, forbidden_values=["alice_2011", "bob@example.org"]) == []


def test_personal_data_is_found_in_any_field_regardless_of_case() -> None:
    statement = rich_statement(
        decision_facts="User Alice_2011 sent the message.",
        puid="report-ALICE_2011-17",
        category_specification_other="mail bob@Example.org",
    )

    found = find_personal_data(statement, forbidden_values=["alice_2011", "BOB@example.ORG"])

    assert found == ["decision_facts", "puid", "category_specification_other"]


def test_personal_data_is_found_inside_arrays_and_maps() -> None:
    statement = illegal_statement(content_id={"EAN-13": "4006381333931"})

    assert find_personal_data(statement, forbidden_values=["4006381333931"]) == ["content_id"]


def test_blank_forbidden_values_match_nothing() -> None:
    assert find_personal_data(illegal_statement(), forbidden_values=["", "  "]) == []


def test_forbidden_values_may_be_any_iterable() -> None:
    names = (name for name in ["minor-account-42"])
    statement = illegal_statement(source_identity="Report by minor-account-42")

    assert find_personal_data(statement, forbidden_values=names) == ["source_identity"]


# --- Property: breaking a valid statement is always caught and named ------------------------

_ENUM_FIELDS: dict[str, frozenset[str]] = {
    "decision_ground": frozenset(DecisionGround),
    "decision_monetary": frozenset(DecisionMonetary),
    "decision_provision": frozenset(DecisionProvision),
    "decision_account": frozenset(DecisionAccount),
    "account_type": frozenset(AccountType),
    "category": frozenset(Category),
    "source_type": frozenset(SourceType),
    "automated_detection": frozenset(AutomatedDetection),
    "automated_decision": frozenset(AutomatedDecision),
    "content_language": CONTENT_LANGUAGES,
}
_ENUM_ARRAY_FIELDS: dict[str, frozenset[str]] = {
    "decision_visibility": frozenset(DecisionVisibility),
    "content_type": frozenset(ContentType),
    "category_addition": frozenset(Category),
    "category_specification": frozenset(CategoryKeyword),
    "territorial_scope": EU_EEA_COUNTRIES,
}
_BASES = [illegal_statement(), incompatible_statement(), rich_statement()]
_junk = st.one_of(st.text(max_size=40), st.integers(), st.booleans(), st.floats())


@st.composite
def broken_statements(draw: st.DrawFn) -> tuple[dict[str, Any], str]:
    statement = copy.deepcopy(draw(st.sampled_from(_BASES)))
    kind = draw(st.sampled_from(["drop", "junk_enum", "junk_array", "overlong"]))
    if kind == "drop":
        ground = statement["decision_ground"]
        owed = (
            ["illegal_content_legal_ground", "illegal_content_explanation"]
            if ground == DecisionGround.ILLEGAL_CONTENT
            else ["incompatible_content_ground", "incompatible_content_explanation"]
        )
        field = draw(st.sampled_from(sorted(REQUIRED_FIELDS) + owed))
        del statement[field]
    elif kind == "junk_enum":
        field = draw(st.sampled_from(sorted(_ENUM_FIELDS)))
        statement[field] = draw(_junk.filter(lambda v: v not in _ENUM_FIELDS[field]))
    elif kind == "junk_array":
        field = draw(st.sampled_from(sorted(_ENUM_ARRAY_FIELDS)))
        junk = draw(_junk.filter(lambda v: v not in _ENUM_ARRAY_FIELDS[field]))
        statement[field] = draw(st.sampled_from([[junk], junk, [*statement.get(field, []), junk]]))
    else:
        field = draw(st.sampled_from(sorted(TEXT_LIMITS.keys() & statement.keys())))
        extra = draw(st.integers(min_value=1, max_value=50))
        statement[field] = "a" * (TEXT_LIMITS[field] + extra)
    return statement, field


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(broken_statements())
def test_any_broken_statement_gets_an_error_naming_the_broken_field(
    broken: tuple[dict[str, Any], str],
) -> None:
    statement, field = broken

    assert field in fields_of(validate_statement(statement))


def test_the_bases_of_the_property_test_are_valid_and_known_fields_only() -> None:
    for base in _BASES:
        assert validate_statement(base) == []
        assert base.keys() <= STATEMENT_FIELDS
