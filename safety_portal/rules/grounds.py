"""The policy grounds a moderator can cite, as data.

Every restricting decision names its ground: either a law (the content is illegal, DSA art.
17(3)(d)) or a clause of our terms (the content is incompatible with them, art. 17(3)(e)). The
statement of reasons copies the ground's reference and explanation into the fields the
Transparency Database schema requires for that kind of ground (POLICY.md §6), so the catalogue
keeps both texts within the schema's limits (500 and 2000 characters) and free of personal data.
Adding a ground is a code change, reviewed like any other.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from types import MappingProxyType

from safety_portal.rules.sor_vocabulary import (
    ILLEGAL_CONTENT_EXPLANATION_MAX,
    ILLEGAL_CONTENT_LEGAL_GROUND_MAX,
    Category,
    CategoryKeyword,
    DecisionGround,
)


@dataclass(frozen=True)
class Ground:
    code: str
    label: str
    kind: DecisionGround
    reference: str  # the law or the terms clause (illegal_content_legal_ground / ..._ground)
    explanation: str  # why the content breaks it, in words a user understands

    def __post_init__(self) -> None:
        if len(self.reference) > ILLEGAL_CONTENT_LEGAL_GROUND_MAX:
            raise ValueError(f"ground {self.code}: reference too long for the statement schema")
        if len(self.explanation) > ILLEGAL_CONTENT_EXPLANATION_MAX:
            raise ValueError(f"ground {self.code}: explanation too long for the statement schema")


_TERMS = DecisionGround.INCOMPATIBLE_CONTENT
_LAW = DecisionGround.ILLEGAL_CONTENT

_ALL = (
    Ground(
        "tc_minor_safety",
        "Minor safety",
        _TERMS,
        "Community Guidelines, section 2 (Minor safety)",
        "The content or conduct put a young person at risk: sexualised contact, pressure to "
        "move a conversation elsewhere, or repeated unwanted contact with someone under 18.",
    ),
    Ground(
        "tc_harassment",
        "Harassment and bullying",
        _TERMS,
        "Community Guidelines, section 3 (Harassment and bullying)",
        "The content insulted, threatened or intimidated another person.",
    ),
    Ground(
        "tc_hate",
        "Hateful behaviour",
        _TERMS,
        "Community Guidelines, section 4 (Hateful behaviour)",
        "The content attacked people for who they are (for example their origin, religion, "
        "disability, sex or sexual orientation).",
    ),
    Ground(
        "tc_self_harm",
        "Suicide, self-harm and dangerous challenges",
        _TERMS,
        "Community Guidelines, section 5 (Suicide, self-harm and dangerous challenges)",
        "The content encouraged suicide, self-harm, eating disorders or a dangerous challenge.",
    ),
    Ground(
        "tc_violence",
        "Violent threats",
        _TERMS,
        "Community Guidelines, section 6 (Violent threats and incitement)",
        "The content threatened or encouraged violence against a person or a group.",
    ),
    Ground(
        "tc_scams",
        "Scams and fraud",
        _TERMS,
        "Community Guidelines, section 7 (Scams and fraud)",
        "The content tried to trick people out of money, accounts or personal information.",
    ),
    Ground(
        "tc_spam",
        "Spam and fake accounts",
        _TERMS,
        "Community Guidelines, section 8 (Spam and inauthentic behaviour)",
        "The account sent repeated unwanted messages or pretended to be someone else.",
    ),
    Ground(
        "tc_privacy",
        "Private information",
        _TERMS,
        "Community Guidelines, section 9 (Private information)",
        "The content shared another person's private information without their permission.",
    ),
    Ground(
        "tc_minimum_age",
        "Minimum age",
        _TERMS,
        "Terms of Service, section 1.2 (Minimum age: 13, or the higher age set by the "
        "account holder's country of residence)",
        "The account may belong to someone below the minimum age to hold an account. It stays "
        "paused until the holder's age is confirmed.",
    ),
    Ground(
        "law_child_sexual_abuse",
        "Child sexual abuse (law)",
        _LAW,
        "Directive 2011/93/EU, arts. 5 and 6 (child sexual abuse material; solicitation of "
        "children for sexual purposes), as transposed into national criminal law",
        "The content is child sexual abuse material or an attempt to solicit a child for "
        "sexual purposes, which is a criminal offence.",
    ),
    Ground(
        "law_threats",
        "Threats and incitement (law)",
        _LAW,
        "National criminal law on threats and public incitement to violence; Framework "
        "Decision 2008/913/JHA",
        "The content threatened a person with violence or publicly incited violence, which is "
        "a criminal offence.",
    ),
)

GROUNDS: MappingProxyType[str, Ground] = MappingProxyType({g.code: g for g in _ALL})
GROUND_CHOICES: list[tuple[str, str]] = [(g.code, g.label) for g in _ALL]
MINIMUM_AGE_GROUND = "tc_minimum_age"


# The ground a decision on a case of each statement category most often cites (issue 15.2: the
# decision form pre-fills it). Categories with no clause of their own (intellectual property,
# consumer information, "other", "not specified", ...) suggest nothing: the moderator chooses.
_GROUND_FOR_CATEGORY: MappingProxyType[str, str] = MappingProxyType(
    {
        Category.PROTECTION_OF_MINORS: "tc_minor_safety",
        Category.CYBER_VIOLENCE: "tc_harassment",
        Category.CYBER_VIOLENCE_AGAINST_WOMEN: "tc_harassment",
        Category.ILLEGAL_OR_HARMFUL_SPEECH: "tc_hate",
        Category.SELF_HARM: "tc_self_harm",
        Category.VIOLENCE: "tc_violence",
        Category.RISK_FOR_PUBLIC_SECURITY: "tc_violence",
        Category.SCAMS_AND_FRAUD: "tc_scams",
        Category.DATA_PROTECTION_AND_PRIVACY_VIOLATIONS: "tc_privacy",
    }
)
# Material that is illegal on its face: the law is the ground, not only our terms. Grooming is
# not in this set on purpose: whether a conversation is criminal solicitation is the competent
# authority's finding (the child-safety escalation sends it there); the moderator's finding is the
# breach of the minor-safety clause, whose text names exactly that conduct.
_ILLEGAL_ON_ITS_FACE: MappingProxyType[str, str] = MappingProxyType(
    {
        CategoryKeyword.CHILD_SEXUAL_ABUSE_MATERIAL: "law_child_sexual_abuse",
        CategoryKeyword.CHILD_SEXUAL_ABUSE_MATERIAL_DEEPFAKE: "law_child_sexual_abuse",
    }
)


def suggested_ground(category: str, keywords: Iterable[str] = ()) -> str:
    """The ground to pre-fill for a decision on a case of `category` with `keywords`, or "" when
    no ground fits without the moderator's judgement (POLICY.md §6: every restricting decision
    names its ground; this only proposes one, the moderator may change it).

    A keyword naming illegal material wins over the category's usual terms clause.
    """
    for word in sorted(set(keywords)):
        if word in _ILLEGAL_ON_ITS_FACE:
            return _ILLEGAL_ON_ITS_FACE[word]
    return _GROUND_FOR_CATEGORY.get(category, "")
