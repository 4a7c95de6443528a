"""The EU DSA Transparency Database statement-of-reasons schema, as data plus a strict validator.

Why this module exists: every restriction we impose produces a statement of reasons that must be
accepted by the Commission's Transparency Database (DSA art. 17 and art. 24(5)) and must carry no
personal data (POLICY.md section 6). Building statements and checking them are two halves of one
rule, so the schema lives here once: the moderation app builds statements from these enums, and
the test suite runs every exported statement through :func:`validate_statement`.

The schema is the one in force since 1 July 2025 ("API v2"). It was read from the Commission's
public repository ``digital-services-act/transparency-database``: the value lists from
``resources/markdown/api-documentation.md`` (v2 edition) and ``app/Models/Statement.php``, the
country and language codes from ``app/Services/EuropeanCountriesService.php`` and
``app/Services/EuropeanLanguagesService.php``, and the field rules from the Laravel validation
rules in ``app/Http/Requests/StatementStoreRequest.php`` / ``StatementsStoreRequest.php`` and the
multi-statement rules in ``app/Services/GroupedSubmissionsService.php``.

The validator is deliberately stricter than the Commission's API in a few places, because it
guards what *we* emit rather than what the database tolerates:

* a field that the API would silently drop (``exclude_unless``) is an error here, since a value
  we send but the database discards is a bug in our builder and may carry text we never meant
  to publish;
* arrays must be non-empty and free of duplicates;
* an end date is accepted only together with the restriction it ends, and never before the
  application date (the API documentation states the latter, its rules do not enforce it);
* ``territorial_scope`` is required (the API documentation calls it required; POLICY.md says
  always send it);
* categories and keywords withdrawn on 1 July 2025 are rejected with a message that says so.

Pure module: no Django imports, no clock, no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlsplit

from .sor_vocabulary import (
    _DATE_SHAPE,
    _EAN13_SHAPE,
    _ILLEGAL_FIELDS,
    _INCOMPATIBLE_FIELDS,
    APPLICATION_DATE_MIN,
    BATCH_MAX_STATEMENTS,
    BATCH_MIN_STATEMENTS,
    CONTENT_DATE_MIN,
    CONTENT_ID_KEYS,
    CONTENT_LANGUAGES,
    DATE_MAX,
    DECISION_FIELDS,
    END_DATE_FIELDS,
    EU_EEA_COUNTRIES,
    PUID_PATTERN,
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
    _values,
)

# --------------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SchemaError:
    """One reason a statement would be refused. ``field`` names the offending field (prefixed
    ``statements[i].`` inside a batch; empty when the statement itself is not an object)."""

    field: str
    message: str


class _Checker:
    """Collects every problem in one statement instead of stopping at the first, so that a
    builder bug shows all its symptoms in one test run."""

    def __init__(self, statement: Mapping[str, Any]) -> None:
        self.errors: list[SchemaError] = []
        # The API treats an explicit null like an absent optional field; so do we.
        self.values = {key: value for key, value in statement.items() if value is not None}

    def fail(self, field: str, message: str) -> None:
        self.errors.append(SchemaError(field, message))

    def has(self, field: str) -> bool:
        return field in self.values

    def require(self, field: str, when: str) -> None:
        if not self.has(field):
            self.fail(field, f"is required when {when}")

    def forbid(self, field: str, unless: str) -> None:
        # Strict on purpose: the database would silently drop this value (exclude_unless).
        if self.has(field):
            self.fail(field, f"must be absent unless {unless}")

    def choice(
        self, field: str, allowed: frozenset[str], *, withdrawn: frozenset[str] = frozenset()
    ) -> str | None:
        """Check a single enumerated value; return it when it is allowed."""
        if not self.has(field):
            return None
        value = self.values[field]
        if not isinstance(value, str):
            self.fail(field, "must be a string")
            return None
        if value in withdrawn:
            self.fail(field, f"{value} was withdrawn on 1 July 2025")
            return None
        if value not in allowed:
            self.fail(field, f"{value!r} is not an allowed value")
            return None
        return value

    def choices(
        self, field: str, allowed: frozenset[str], *, withdrawn: frozenset[str] = frozenset()
    ) -> list[str]:
        """Check an array of enumerated values; return the allowed items found."""
        if not self.has(field):
            return []
        value = self.values[field]
        if isinstance(value, str | bytes) or not isinstance(value, Sequence):
            self.fail(field, "must be an array")
            return []
        if not value:
            self.fail(field, "must not be empty")
            return []
        found: list[str] = []
        for item in value:
            if not isinstance(item, str):
                self.fail(field, f"contains {item!r}, which is not a string")
            elif item in withdrawn:
                self.fail(field, f"contains {item}, which was withdrawn on 1 July 2025")
            elif item not in allowed:
                self.fail(field, f"contains {item!r}, which is not an allowed value")
            elif item in found:
                self.fail(field, f"contains {item} more than once")
            else:
                found.append(item)
        return found

    def text(self, field: str, limit: int) -> None:
        if not self.has(field):
            return
        value = self.values[field]
        if not isinstance(value, str):
            self.fail(field, "must be a string")
        elif not value.strip():
            # Laravel trims input and then treats "" as missing.
            self.fail(field, "must not be blank")
        elif len(value) > limit:
            self.fail(field, f"is {len(value)} characters long; the limit is {limit}")

    def day(self, field: str, *, earliest: date | None) -> date | None:
        """Check a YYYY-MM-DD date within [earliest, DATE_MAX]; return it when valid."""
        if not self.has(field):
            return None
        value = self.values[field]
        if not isinstance(value, str) or not _DATE_SHAPE.fullmatch(value):
            self.fail(field, "must be a date written YYYY-MM-DD")
            return None
        try:
            parsed = date.fromisoformat(value)
        except ValueError:
            self.fail(field, f"{value} is not a calendar date")
            return None
        if earliest is not None and parsed < earliest:
            self.fail(field, f"must be on or after {earliest.isoformat()}")
            return None
        if parsed > DATE_MAX:
            self.fail(field, f"must be on or before {DATE_MAX.isoformat()}")
            return None
        return parsed


def validate_statement(statement: Mapping[str, Any]) -> list[SchemaError]:
    """Return every reason the Transparency Database schema (1 July 2025) would refuse
    ``statement``; an empty list means it is valid.

    Implements POLICY.md section 6, "Statement-of-reasons fields": every restriction produces a
    statement that validates against this schema. See the module docstring for where each rule
    comes from and where we are stricter than the Commission's API.
    """
    if not isinstance(statement, Mapping):
        return [SchemaError("", "a statement must be an object")]

    check = _Checker(statement)

    for key in statement:
        if key not in STATEMENT_FIELDS:
            check.fail(str(key), "is not a field of the statement-of-reasons schema")
    for field in sorted(REQUIRED_FIELDS):
        if not check.has(field):
            check.fail(field, "is required")

    # --- Restrictions: at least one of the four kinds (DSA art. 17(1)(a)-(d)).
    visibility = check.choices("decision_visibility", _values(DecisionVisibility))
    monetary = check.choice("decision_monetary", _values(DecisionMonetary))
    check.choice("decision_provision", _values(DecisionProvision))
    check.choice("decision_account", _values(DecisionAccount))
    check.choice("account_type", _values(AccountType))
    if not any(check.has(field) for field in DECISION_FIELDS):
        for field in DECISION_FIELDS:
            check.fail(field, "at least one of " + ", ".join(DECISION_FIELDS) + " is required")

    if DecisionVisibility.OTHER in visibility:
        check.require("decision_visibility_other", "decision_visibility includes OTHER")
    else:
        check.forbid("decision_visibility_other", "decision_visibility includes OTHER")
    if monetary == DecisionMonetary.OTHER:
        check.require("decision_monetary_other", "decision_monetary is OTHER")
    else:
        check.forbid("decision_monetary_other", "decision_monetary is OTHER")

    # --- Grounds: which explanation is owed depends on the ground (art. 17(3)(d)/(e)).
    ground = check.choice("decision_ground", _values(DecisionGround))
    check.choice("incompatible_content_illegal", _values(IncompatibleContentIllegal))
    if ground == DecisionGround.ILLEGAL_CONTENT:
        for field in _ILLEGAL_FIELDS:
            check.require(field, "decision_ground is ILLEGAL_CONTENT")
        for field in (*_INCOMPATIBLE_FIELDS, "incompatible_content_illegal"):
            check.forbid(field, "decision_ground is INCOMPATIBLE_CONTENT")
    elif ground == DecisionGround.INCOMPATIBLE_CONTENT:
        for field in _INCOMPATIBLE_FIELDS:
            check.require(field, "decision_ground is INCOMPATIBLE_CONTENT")
        for field in _ILLEGAL_FIELDS:
            check.forbid(field, "decision_ground is ILLEGAL_CONTENT")
    url = check.values.get("decision_ground_reference_url")
    if url is not None and not _is_web_url(url):
        check.fail("decision_ground_reference_url", "must be an http(s) URL")

    # --- Content.
    content_types = check.choices("content_type", _values(ContentType))
    if ContentType.OTHER in content_types:
        check.require("content_type_other", "content_type includes OTHER")
    else:
        check.forbid("content_type_other", "content_type includes OTHER")
    check.choice("content_language", CONTENT_LANGUAGES)
    if check.has("content_id"):
        _check_content_id(check, check.values["content_id"])

    # --- Classification.
    category = check.choice("category", _values(Category), withdrawn=WITHDRAWN_CATEGORIES)
    additions = check.choices(
        "category_addition", _values(Category), withdrawn=WITHDRAWN_CATEGORIES
    )
    if category is not None and category in additions:
        check.fail("category_addition", f"repeats the main category {category}")
    keywords = check.choices(
        "category_specification", _values(CategoryKeyword), withdrawn=WITHDRAWN_KEYWORDS
    )
    if CategoryKeyword.OTHER not in keywords:
        check.forbid("category_specification_other", "category_specification includes OTHER")

    # --- Scope and time.
    check.choices("territorial_scope", EU_EEA_COUNTRIES)
    check.day("content_date", earliest=CONTENT_DATE_MIN)
    applied = check.day("application_date", earliest=APPLICATION_DATE_MIN)
    for decision_field, end_field in END_DATE_FIELDS.items():
        if not check.has(decision_field):
            check.forbid(end_field, f"{decision_field} is given")
        ends = check.day(end_field, earliest=None)
        if ends is not None and applied is not None and ends < applied:
            check.fail(end_field, "must not be before application_date")

    # --- Source and automation.
    source = check.choice("source_type", _values(SourceType))
    if source == SourceType.VOLUNTARY:
        # The database ignores a notifier on own-initiative decisions; sending one anyway would
        # only risk publishing personal data (art. 24(5)).
        check.forbid("source_identity", "source_type is a notice, not SOURCE_VOLUNTARY")
    check.choice("automated_detection", _values(AutomatedDetection))
    check.choice("automated_decision", _values(AutomatedDecision))

    # --- Free text and the platform identifier.
    for field, limit in TEXT_LIMITS.items():
        check.text(field, limit)
    puid = check.values.get("puid")
    if isinstance(puid, str) and puid.strip() and not PUID_PATTERN.fullmatch(puid):
        check.fail("puid", "may contain only letters a-z/A-Z, digits, '-' and '_'")

    return check.errors


def _is_web_url(value: object) -> bool:
    if not isinstance(value, str) or any(ch.isspace() for ch in value):
        return False
    parts = urlsplit(value)
    return parts.scheme in {"http", "https"} and bool(parts.netloc)


def _check_content_id(check: _Checker, value: object) -> None:
    if not isinstance(value, Mapping) or not value:
        check.fail("content_id", "must be a non-empty object of identifiers")
        return
    for key, identifier in value.items():
        if key not in CONTENT_ID_KEYS:
            check.fail("content_id", f"{key!r} is not an accepted identifier type")
        elif not isinstance(identifier, str) or not _EAN13_SHAPE.fullmatch(identifier):
            check.fail("content_id", f"{key} must be a string of 13 digits")


def validate_batch(payload: Mapping[str, Any]) -> list[SchemaError]:
    """Validate a multi-statement submission ``{"statements": [...]}``.

    Implements POLICY.md section 6 for bulk export: 1 to 100 statements per call (the
    Commission's multiple endpoint), each valid on its own, and no puid repeated within the
    call (the Commission refuses the whole call when puids are not unique). Errors about a
    statement are named ``statements[i].<field>``.
    """
    if not isinstance(payload, Mapping):
        return [SchemaError("", "the payload must be an object")]
    errors = [
        SchemaError(str(key), "is not a field of a batch payload")
        for key in payload
        if key != "statements"
    ]
    statements = payload.get("statements")
    if isinstance(statements, str | bytes) or not isinstance(statements, Sequence):
        errors.append(SchemaError("statements", "must be an array of statements"))
        return errors
    if not BATCH_MIN_STATEMENTS <= len(statements) <= BATCH_MAX_STATEMENTS:
        errors.append(
            SchemaError(
                "statements",
                f"holds {len(statements)} statements; a batch holds "
                f"{BATCH_MIN_STATEMENTS} to {BATCH_MAX_STATEMENTS}",
            )
        )

    first_seen: dict[str, int] = {}
    for index, statement in enumerate(statements):
        prefix = f"statements[{index}]"
        for error in validate_statement(statement):
            name = f"{prefix}.{error.field}" if error.field else prefix
            errors.append(SchemaError(name, error.message))
        puid = statement.get("puid") if isinstance(statement, Mapping) else None
        if isinstance(puid, str):
            if puid in first_seen:
                errors.append(
                    SchemaError(
                        f"{prefix}.puid",
                        f"repeats the puid of statements[{first_seen[puid]}]",
                    )
                )
            else:
                first_seen[puid] = index
    return errors


def _strings_in(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _strings_in(key)
            yield from _strings_in(item)
    elif isinstance(value, Sequence) and not isinstance(value, bytes):
        for item in value:
            yield from _strings_in(item)


def find_personal_data(
    statement: Mapping[str, Any], *, forbidden_values: Iterable[str]
) -> list[str]:
    """Return the fields of ``statement`` whose text contains any of ``forbidden_values``
    (usernames, e-mail addresses, external ids), compared case-insensitively.

    Implements POLICY.md section 6 / DSA art. 24(5): a statement carries no personal data. Every
    string in the statement is searched, not only the prose fields, because a puid or a
    category_specification_other can leak an identifier just as well. Matching is by substring,
    so it errs towards reporting; blank forbidden values are ignored because they would match
    everything. Fields are returned once each, in the statement's order.
    """
    needles = [value.casefold() for value in forbidden_values if value and value.strip()]
    if not needles:
        return []
    hits: list[str] = []
    for field, value in statement.items():
        for text in _strings_in(value):
            folded = text.casefold()
            if any(needle in folded for needle in needles):
                hits.append(str(field))
                break
    return hits
