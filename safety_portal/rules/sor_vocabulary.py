"""The DSA Transparency Database's value lists and limits (schema in force since 1 July 2025).

The wire strings of every enumerated field and the length and date limits, read from the
Commission's transparency-database repository (see sor_schema.py for where each came from).
Pure module: no Django imports, no clock, no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from enum import StrEnum
from types import MappingProxyType

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
