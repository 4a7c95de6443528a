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

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

__all__ = [
    "APPLICATION_DATE_MIN",
    "BATCH_MAX_STATEMENTS",
    "BATCH_MIN_STATEMENTS",
    "CATEGORY_SPECIFICATION_OTHER_MAX",
    "CONTENT_DATE_MIN",
    "CONTENT_ID_KEYS",
    "CONTENT_LANGUAGES",
    "CONTENT_TYPE_OTHER_MAX",
    "DATE_MAX",
    "DECISION_FACTS_MAX",
    "DECISION_FIELDS",
    "DECISION_GROUND_REFERENCE_URL_MAX",
    "DECISION_MONETARY_OTHER_MAX",
    "DECISION_VISIBILITY_OTHER_MAX",
    "END_DATE_FIELDS",
    "EU_COUNTRIES",
    "EU_EEA_COUNTRIES",
    "ILLEGAL_CONTENT_EXPLANATION_MAX",
    "ILLEGAL_CONTENT_LEGAL_GROUND_MAX",
    "INCOMPATIBLE_CONTENT_EXPLANATION_MAX",
    "INCOMPATIBLE_CONTENT_GROUND_MAX",
    "MINORS_KEYWORDS",
    "PUID_MAX",
    "PUID_PATTERN",
    "REQUIRED_FIELDS",
    "SOURCE_IDENTITY_MAX",
    "STATEMENT_FIELDS",
    "TEXT_LIMITS",
    "WITHDRAWN_CATEGORIES",
    "WITHDRAWN_KEYWORDS",
    "AccountType",
    "AutomatedDecision",
    "AutomatedDetection",
    "Category",
    "CategoryKeyword",
    "ContentType",
    "DecisionAccount",
    "DecisionGround",
    "DecisionMonetary",
    "DecisionProvision",
    "DecisionVisibility",
    "IncompatibleContentIllegal",
    "SchemaError",
    "SourceType",
    "find_personal_data",
    "validate_batch",
    "validate_statement",
]


# --------------------------------------------------------------------------------------------
# Enumerated values. The API exchanges the constant *names* (e.g. "DECISION_GROUND_ILLEGAL_
# CONTENT"), not the human labels, so each member's value is the wire string.
# --------------------------------------------------------------------------------------------


class DecisionGround(StrEnum):
    """Whether the content was restricted as illegal (art. 17(3)(d)) or as against our terms
    (art. 17(3)(e)); it decides which ground and explanation fields must be filled."""

    ILLEGAL_CONTENT = "DECISION_GROUND_ILLEGAL_CONTENT"
    INCOMPATIBLE_CONTENT = "DECISION_GROUND_INCOMPATIBLE_CONTENT"


class DecisionVisibility(StrEnum):
    """Restrictions on the visibility of specific items of content (art. 17(1)(a))."""

    CONTENT_REMOVED = "DECISION_VISIBILITY_CONTENT_REMOVED"
    CONTENT_DISABLED = "DECISION_VISIBILITY_CONTENT_DISABLED"
    CONTENT_DEMOTED = "DECISION_VISIBILITY_CONTENT_DEMOTED"
    CONTENT_AGE_RESTRICTED = "DECISION_VISIBILITY_CONTENT_AGE_RESTRICTED"
    CONTENT_INTERACTION_RESTRICTED = "DECISION_VISIBILITY_CONTENT_INTERACTION_RESTRICTED"
    CONTENT_LABELLED = "DECISION_VISIBILITY_CONTENT_LABELLED"
    OTHER = "DECISION_VISIBILITY_OTHER"


class DecisionMonetary(StrEnum):
    """Suspension, termination or other restriction of monetary payments (art. 17(1)(b))."""

    SUSPENSION = "DECISION_MONETARY_SUSPENSION"
    TERMINATION = "DECISION_MONETARY_TERMINATION"
    OTHER = "DECISION_MONETARY_OTHER"


class DecisionProvision(StrEnum):
    """Suspension or termination of the provision of the service (art. 17(1)(c))."""

    PARTIAL_SUSPENSION = "DECISION_PROVISION_PARTIAL_SUSPENSION"
    TOTAL_SUSPENSION = "DECISION_PROVISION_TOTAL_SUSPENSION"
    PARTIAL_TERMINATION = "DECISION_PROVISION_PARTIAL_TERMINATION"
    TOTAL_TERMINATION = "DECISION_PROVISION_TOTAL_TERMINATION"


class DecisionAccount(StrEnum):
    """Suspension or termination of the user's account (art. 17(1)(d))."""

    SUSPENDED = "DECISION_ACCOUNT_SUSPENDED"
    TERMINATED = "DECISION_ACCOUNT_TERMINATED"


class AccountType(StrEnum):
    """Business user (P2B Regulation 2019/1150) or private account; optional in the schema."""

    BUSINESS = "ACCOUNT_TYPE_BUSINESS"
    PRIVATE = "ACCOUNT_TYPE_PRIVATE"


class ContentType(StrEnum):
    """What kind of content the decision concerns; several may apply to one item."""

    APP = "CONTENT_TYPE_APP"
    AUDIO = "CONTENT_TYPE_AUDIO"
    IMAGE = "CONTENT_TYPE_IMAGE"
    PRODUCT = "CONTENT_TYPE_PRODUCT"
    SYNTHETIC_MEDIA = "CONTENT_TYPE_SYNTHETIC_MEDIA"
    TEXT = "CONTENT_TYPE_TEXT"
    VIDEO = "CONTENT_TYPE_VIDEO"
    OTHER = "CONTENT_TYPE_OTHER"


class Category(StrEnum):
    """High-level category of the illegality or terms violation (schema since 1 July 2025).

    Withdrawn categories are deliberately not members: see :data:`WITHDRAWN_CATEGORIES`.
    """

    ANIMAL_WELFARE = "STATEMENT_CATEGORY_ANIMAL_WELFARE"
    CONSUMER_INFORMATION = "STATEMENT_CATEGORY_CONSUMER_INFORMATION"
    CYBER_VIOLENCE = "STATEMENT_CATEGORY_CYBER_VIOLENCE"
    CYBER_VIOLENCE_AGAINST_WOMEN = "STATEMENT_CATEGORY_CYBER_VIOLENCE_AGAINST_WOMEN"
    DATA_PROTECTION_AND_PRIVACY_VIOLATIONS = (
        "STATEMENT_CATEGORY_DATA_PROTECTION_AND_PRIVACY_VIOLATIONS"
    )
    ILLEGAL_OR_HARMFUL_SPEECH = "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH"
    INTELLECTUAL_PROPERTY_INFRINGEMENTS = "STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS"
    NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS = (
        "STATEMENT_CATEGORY_NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS"
    )
    NOT_SPECIFIED_NOTICE = "STATEMENT_CATEGORY_NOT_SPECIFIED_NOTICE"
    OTHER_VIOLATION_TC = "STATEMENT_CATEGORY_OTHER_VIOLATION_TC"
    PROTECTION_OF_MINORS = "STATEMENT_CATEGORY_PROTECTION_OF_MINORS"
    RISK_FOR_PUBLIC_SECURITY = "STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY"
    SCAMS_AND_FRAUD = "STATEMENT_CATEGORY_SCAMS_AND_FRAUD"
    SELF_HARM = "STATEMENT_CATEGORY_SELF_HARM"
    UNSAFE_AND_PROHIBITED_PRODUCTS = "STATEMENT_CATEGORY_UNSAFE_AND_PROHIBITED_PRODUCTS"
    VIOLENCE = "STATEMENT_CATEGORY_VIOLENCE"


WITHDRAWN_CATEGORIES: frozenset[str] = frozenset(
    {
        # Withdrawn on 1 July 2025 (POLICY.md section 6); the Commission keeps them only so that
        # statements filed before that date still display. We must never emit them.
        "STATEMENT_CATEGORY_NON_CONSENSUAL_BEHAVIOUR",
        "STATEMENT_CATEGORY_PORNOGRAPHY_OR_SEXUALIZED_CONTENT",
        "STATEMENT_CATEGORY_SCOPE_OF_PLATFORM_SERVICE",
        "STATEMENT_CATEGORY_UNSAFE_AND_ILLEGAL_PRODUCTS",
    }
)


class CategoryKeyword(StrEnum):
    """Keywords for ``category_specification`` (schema since 1 July 2025).

    The schema does not tie a keyword to a particular category, so neither do we; platforms are
    encouraged to add every keyword that describes the decision.
    """

    ADULT_SEXUAL_MATERIAL = "KEYWORD_ADULT_SEXUAL_MATERIAL"
    AGE_SPECIFIC_RESTRICTIONS = "KEYWORD_AGE_SPECIFIC_RESTRICTIONS"
    AGE_SPECIFIC_RESTRICTIONS_MINORS = "KEYWORD_AGE_SPECIFIC_RESTRICTIONS_MINORS"
    ANIMAL_HARM = "KEYWORD_ANIMAL_HARM"
    BIOMETRIC_DATA_BREACH = "KEYWORD_BIOMETRIC_DATA_BREACH"
    BULLYING_AGAINST_GIRLS = "KEYWORD_BULLYING_AGAINST_GIRLS"
    CHILD_SEXUAL_ABUSE_MATERIAL = "KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL"
    CHILD_SEXUAL_ABUSE_MATERIAL_DEEPFAKE = "KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL_DEEPFAKE"
    CONTENT_PROMOTING_EATING_DISORDERS = "KEYWORD_CONTENT_PROMOTING_EATING_DISORDERS"
    COORDINATED_HARM = "KEYWORD_COORDINATED_HARM"
    COPYRIGHT_INFRINGEMENT = "KEYWORD_COPYRIGHT_INFRINGEMENT"
    CYBER_BULLYING_INTIMIDATION = "KEYWORD_CYBER_BULLYING_INTIMIDATION"
    CYBER_HARASSMENT = "KEYWORD_CYBER_HARASSMENT"
    CYBER_HARASSMENT_AGAINST_WOMEN = "KEYWORD_CYBER_HARASSMENT_AGAINST_WOMEN"
    CYBER_INCITEMENT = "KEYWORD_CYBER_INCITEMENT"
    CYBER_STALKING = "KEYWORD_CYBER_STALKING"
    CYBER_STALKING_AGAINST_WOMEN = "KEYWORD_CYBER_STALKING_AGAINST_WOMEN"
    DATA_FALSIFICATION = "KEYWORD_DATA_FALSIFICATION"
    DEFAMATION = "KEYWORD_DEFAMATION"
    DESIGN_INFRINGEMENT = "KEYWORD_DESIGN_INFRINGEMENT"
    DISCRIMINATION = "KEYWORD_DISCRIMINATION"
    FEMALE_GENDERED_DISINFORMATION = "KEYWORD_FEMALE_GENDERED_DISINFORMATION"
    GEOGRAPHIC_INDICATIONS_INFRINGEMENT = "KEYWORD_GEOGRAPHIC_INDICATIONS_INFRINGEMENT"
    GEOGRAPHICAL_REQUIREMENTS = "KEYWORD_GEOGRAPHICAL_REQUIREMENTS"
    GOODS_SERVICES_NOT_PERMITTED = "KEYWORD_GOODS_SERVICES_NOT_PERMITTED"
    GROOMING_SEXUAL_ENTICEMENT_MINORS = "KEYWORD_GROOMING_SEXUAL_ENTICEMENT_MINORS"
    HATE_SPEECH = "KEYWORD_HATE_SPEECH"
    HIDDEN_ADVERTISEMENT = "KEYWORD_HIDDEN_ADVERTISEMENT"
    HUMAN_EXPLOITATION = "KEYWORD_HUMAN_EXPLOITATION"
    HUMAN_TRAFFICKING = "KEYWORD_HUMAN_TRAFFICKING"
    ILLEGAL_ORGANIZATIONS = "KEYWORD_ILLEGAL_ORGANIZATIONS"
    IMPERSONATION_ACCOUNT_HIJACKING = "KEYWORD_IMPERSONATION_ACCOUNT_HIJACKING"
    INAUTHENTIC_ACCOUNTS = "KEYWORD_INAUTHENTIC_ACCOUNTS"
    INAUTHENTIC_LISTINGS = "KEYWORD_INAUTHENTIC_LISTINGS"
    INAUTHENTIC_USER_REVIEWS = "KEYWORD_INAUTHENTIC_USER_REVIEWS"
    INCITEMENT_AGAINST_WOMEN = "KEYWORD_INCITEMENT_AGAINST_WOMEN"
    INCITEMENT_VIOLENCE_HATRED = "KEYWORD_INCITEMENT_VIOLENCE_HATRED"
    INSUFFICIENT_INFORMATION_ON_TRADERS = "KEYWORD_INSUFFICIENT_INFORMATION_ON_TRADERS"
    LANGUAGE_REQUIREMENTS = "KEYWORD_LANGUAGE_REQUIREMENTS"
    MISINFORMATION_DISINFORMATION = "KEYWORD_MISINFORMATION_DISINFORMATION"
    MISLEADING_INFO_CONSUMER_RIGHTS = "KEYWORD_MISLEADING_INFO_CONSUMER_RIGHTS"
    MISLEADING_INFO_GOODS_SERVICES = "KEYWORD_MISLEADING_INFO_GOODS_SERVICES"
    MISSING_PROCESSING_GROUND = "KEYWORD_MISSING_PROCESSING_GROUND"
    NON_CONSENSUAL_IMAGE_SHARING = "KEYWORD_NON_CONSENSUAL_IMAGE_SHARING"
    NON_CONSENSUAL_IMAGE_SHARING_AGAINST_WOMEN = (
        "KEYWORD_NON_CONSENSUAL_IMAGE_SHARING_AGAINST_WOMEN"
    )
    NON_CONSENSUAL_MATERIAL_DEEPFAKE = "KEYWORD_NON_CONSENSUAL_MATERIAL_DEEPFAKE"
    NON_CONSENSUAL_MATERIAL_DEEPFAKE_AGAINST_WOMEN = (
        "KEYWORD_NON_CONSENSUAL_MATERIAL_DEEPFAKE_AGAINST_WOMEN"
    )
    NONCOMPLIANCE_PRICING = "KEYWORD_NONCOMPLIANCE_PRICING"
    NUDITY = "KEYWORD_NUDITY"
    PATENT_INFRINGEMENT = "KEYWORD_PATENT_INFRINGEMENT"
    PHISHING = "KEYWORD_PHISHING"
    PROHIBITED_PRODUCTS = "KEYWORD_PROHIBITED_PRODUCTS"
    PYRAMID_SCHEMES = "KEYWORD_PYRAMID_SCHEMES"
    RIGHT_TO_BE_FORGOTTEN = "KEYWORD_RIGHT_TO_BE_FORGOTTEN"
    RISK_ENVIRONMENTAL_DAMAGE = "KEYWORD_RISK_ENVIRONMENTAL_DAMAGE"
    RISK_PUBLIC_HEALTH = "KEYWORD_RISK_PUBLIC_HEALTH"
    SELF_MUTILATION = "KEYWORD_SELF_MUTILATION"
    STALKING = "KEYWORD_STALKING"
    SUICIDE = "KEYWORD_SUICIDE"
    TERRORIST_CONTENT = "KEYWORD_TERRORIST_CONTENT"
    TRADE_SECRET_INFRINGEMENT = "KEYWORD_TRADE_SECRET_INFRINGEMENT"  # noqa: S105 (not a secret)
    TRADEMARK_INFRINGEMENT = "KEYWORD_TRADEMARK_INFRINGEMENT"
    TRAFFICKING_WOMEN_GIRLS = "KEYWORD_TRAFFICKING_WOMEN_GIRLS"
    UNLAWFUL_SALE_ANIMALS = "KEYWORD_UNLAWFUL_SALE_ANIMALS"
    UNSAFE_CHALLENGES = "KEYWORD_UNSAFE_CHALLENGES"
    UNSAFE_PRODUCTS = "KEYWORD_UNSAFE_PRODUCTS"
    VIOLATION_EU_LAW = "KEYWORD_VIOLATION_EU_LAW"
    VIOLATION_NATIONAL_LAW = "KEYWORD_VIOLATION_NATIONAL_LAW"
    OTHER = "KEYWORD_OTHER"


WITHDRAWN_KEYWORDS: frozenset[str] = frozenset(
    {
        # In the pre-July-2025 keyword list but not in the current one (several were renamed,
        # e.g. INSUFFICIENT_INFORMATION_TRADERS -> INSUFFICIENT_INFORMATION_ON_TRADERS,
        # NON_CONSENSUAL_ITEMS_DEEPFAKE -> NON_CONSENSUAL_MATERIAL_DEEPFAKE).
        "KEYWORD_DANGEROUS_TOYS",
        "KEYWORD_DISINFORMATION",
        "KEYWORD_FOREIGN_INFORMATION_MANIPULATION",
        "KEYWORD_GENDER_BASED_VIOLENCE",
        "KEYWORD_IMAGE_BASED_SEXUAL_ABUSE",
        "KEYWORD_INSUFFICIENT_INFORMATION_TRADERS",
        "KEYWORD_MISINFORMATION",
        "KEYWORD_NON_CONSENSUAL_ITEMS_DEEPFAKE",
        "KEYWORD_ONLINE_BULLYING_INTIMIDATION",
        "KEYWORD_REGULATED_GOODS_SERVICES",
    }
)

MINORS_KEYWORDS: frozenset[CategoryKeyword] = frozenset(
    {
        # The keywords under STATEMENT_CATEGORY_PROTECTION_OF_MINORS. Our reports that involve a
        # minor should carry the matching ones (POLICY.md section 6).
        CategoryKeyword.AGE_SPECIFIC_RESTRICTIONS_MINORS,
        CategoryKeyword.CHILD_SEXUAL_ABUSE_MATERIAL,
        CategoryKeyword.CHILD_SEXUAL_ABUSE_MATERIAL_DEEPFAKE,
        CategoryKeyword.GROOMING_SEXUAL_ENTICEMENT_MINORS,
        CategoryKeyword.UNSAFE_CHALLENGES,
    }
)


class SourceType(StrEnum):
    """What led to the decision: a notice (art. 16), a trusted flagger (art. 22), another kind
    of notification, or our own initiative."""

    ARTICLE_16 = "SOURCE_ARTICLE_16"
    TRUSTED_FLAGGER = "SOURCE_TRUSTED_FLAGGER"
    OTHER_NOTIFICATION = "SOURCE_TYPE_OTHER_NOTIFICATION"
    VOLUNTARY = "SOURCE_VOLUNTARY"


class AutomatedDetection(StrEnum):
    """Whether the content was detected by automated means; the wire values are plain words."""

    YES = "Yes"
    NO = "No"


class AutomatedDecision(StrEnum):
    """How far the decision itself (not the detection) was automated."""

    FULLY = "AUTOMATED_DECISION_FULLY"
    PARTIALLY = "AUTOMATED_DECISION_PARTIALLY"
    NOT_AUTOMATED = "AUTOMATED_DECISION_NOT_AUTOMATED"


class IncompatibleContentIllegal(StrEnum):
    """Optional flag on a terms-based decision saying the content was also considered illegal."""

    YES = "Yes"
    NO = "No"


# The 27 EU member states, then the three further EEA states (Iceland, Liechtenstein, Norway).
# fmt: off
EU_COUNTRIES: frozenset[str] = frozenset({
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU",
    "IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
})
# fmt: on
EU_EEA_COUNTRIES: frozenset[str] = EU_COUNTRIES | {"IS", "LI", "NO"}

# Upper-case ISO 639-1 codes accepted for content_language (the Commission's full list).
# fmt: off
CONTENT_LANGUAGES: frozenset[str] = frozenset({
    "AA", "AB", "AE", "AF", "AK", "AM", "AN", "AR", "AS", "AV", "AY", "AZ", "BA", "BE", "BG", "BH",
    "BI", "BM", "BN", "BO", "BR", "BS", "CA", "CE", "CH", "CO", "CR", "CS", "CU", "CV", "CY", "DA",
    "DE", "DV", "DZ", "EE", "EL", "EN", "EO", "ES", "ET", "EU", "FA", "FF", "FI", "FJ", "FO", "FR",
    "FY", "GA", "GD", "GL", "GN", "GU", "GV", "HA", "HE", "HI", "HO", "HR", "HT", "HU", "HY", "HZ",
    "IA", "ID", "IE", "IG", "II", "IK", "IO", "IS", "IT", "IU", "JA", "JV", "KA", "KG", "KI", "KJ",
    "KK", "KL", "KM", "KN", "KO", "KR", "KS", "KU", "KV", "KW", "KY", "LA", "LB", "LG", "LI", "LN",
    "LO", "LT", "LU", "LV", "MG", "MH", "MI", "MK", "ML", "MN", "MR", "MS", "MT", "MY", "NA", "NB",
    "ND", "NE", "NG", "NL", "NN", "NO", "NR", "NV", "NY", "OC", "OJ", "OM", "OR", "OS", "PA", "PI",
    "PL", "PS", "PT", "QU", "RM", "RN", "RO", "RU", "RW", "SA", "SC", "SD", "SE", "SG", "SI", "SK",
    "SL", "SM", "SN", "SO", "SQ", "SR", "SS", "ST", "SU", "SV", "SW", "TA", "TE", "TG", "TH", "TI",
    "TK", "TL", "TN", "TO", "TR", "TS", "TT", "TW", "TY", "UG", "UK", "UR", "UZ", "VE", "VI", "VO",
    "WA", "WO", "XH", "YI", "YO", "ZA", "ZH", "ZU",
})
# fmt: on

# content_id is a key-value map of identifiers that carry no personal data; the database accepts
# only EAN-13 product numbers so far.
CONTENT_ID_KEYS: frozenset[str] = frozenset({"EAN-13"})

# --------------------------------------------------------------------------------------------
# Limits. Lengths count characters, as Laravel's "max" rule does for strings.
# --------------------------------------------------------------------------------------------

ILLEGAL_CONTENT_LEGAL_GROUND_MAX = 500
ILLEGAL_CONTENT_EXPLANATION_MAX = 2000
INCOMPATIBLE_CONTENT_GROUND_MAX = 500
INCOMPATIBLE_CONTENT_EXPLANATION_MAX = 2000
DECISION_FACTS_MAX = 5000
DECISION_VISIBILITY_OTHER_MAX = 500
DECISION_MONETARY_OTHER_MAX = 500
DECISION_GROUND_REFERENCE_URL_MAX = 500
CONTENT_TYPE_OTHER_MAX = 500
CATEGORY_SPECIFICATION_OTHER_MAX = 500
SOURCE_IDENTITY_MAX = 500
PUID_MAX = 500

# The Commission anchors the character class as ^[a-zA-Z0-9-_]+$ with PCRE's D flag, so a
# trailing newline is not tolerated; fullmatch() gives the same behaviour.
PUID_PATTERN = re.compile(r"[A-Za-z0-9_-]+")

CONTENT_DATE_MIN = date(2000, 1, 1)
APPLICATION_DATE_MIN = date(2020, 1, 1)
DATE_MAX = date(2038, 1, 1)  # every date field is capped here by the API

BATCH_MIN_STATEMENTS = 1
BATCH_MAX_STATEMENTS = 100

TEXT_LIMITS: Mapping[str, int] = MappingProxyType(
    {
        "decision_visibility_other": DECISION_VISIBILITY_OTHER_MAX,
        "decision_monetary_other": DECISION_MONETARY_OTHER_MAX,
        "decision_ground_reference_url": DECISION_GROUND_REFERENCE_URL_MAX,
        "illegal_content_legal_ground": ILLEGAL_CONTENT_LEGAL_GROUND_MAX,
        "illegal_content_explanation": ILLEGAL_CONTENT_EXPLANATION_MAX,
        "incompatible_content_ground": INCOMPATIBLE_CONTENT_GROUND_MAX,
        "incompatible_content_explanation": INCOMPATIBLE_CONTENT_EXPLANATION_MAX,
        "content_type_other": CONTENT_TYPE_OTHER_MAX,
        "category_specification_other": CATEGORY_SPECIFICATION_OTHER_MAX,
        "decision_facts": DECISION_FACTS_MAX,
        "source_identity": SOURCE_IDENTITY_MAX,
        "puid": PUID_MAX,
    }
)

# Each restriction field and the end-date field that may accompany it.
END_DATE_FIELDS: Mapping[str, str] = MappingProxyType(
    {
        "decision_visibility": "end_date_visibility_restriction",
        "decision_monetary": "end_date_monetary_restriction",
        "decision_provision": "end_date_service_restriction",
        "decision_account": "end_date_account_restriction",
    }
)
DECISION_FIELDS: tuple[str, ...] = tuple(END_DATE_FIELDS)

REQUIRED_FIELDS: frozenset[str] = frozenset(
    {
        "decision_ground",
        "content_type",
        "category",
        "territorial_scope",
        "content_date",
        "application_date",
        "decision_facts",
        "source_type",
        "automated_detection",
        "automated_decision",
        "puid",
    }
)

STATEMENT_FIELDS: frozenset[str] = (
    REQUIRED_FIELDS
    | set(TEXT_LIMITS)
    | set(END_DATE_FIELDS)
    | set(END_DATE_FIELDS.values())
    | {
        "account_type",
        "incompatible_content_illegal",
        "category_addition",
        "category_specification",
        "content_language",
        "content_id",
    }
)

_ILLEGAL_FIELDS = ("illegal_content_legal_ground", "illegal_content_explanation")
_INCOMPATIBLE_FIELDS = ("incompatible_content_ground", "incompatible_content_explanation")
_DATE_SHAPE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_EAN13_SHAPE = re.compile(r"[0-9]{13}")


def _values(enum_cls: type[StrEnum]) -> frozenset[str]:
    return frozenset(member.value for member in enum_cls)


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
