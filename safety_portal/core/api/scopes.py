"""The scopes an API client can hold (issue 6). Values are part of the public contract."""

from __future__ import annotations

from enum import StrEnum


class Scope(StrEnum):
    USERS_WRITE = "users:write"
    USERS_READ = "users:read"
    SOCIAL_WRITE = "social:write"
    MESSAGES_WRITE = "messages:write"
    MESSAGES_READ = "messages:read"
    REPORTS_WRITE = "reports:write"
    CASES_READ = "cases:read"
    DECISIONS_WRITE = "decisions:write"
    SOR_READ = "sor:read"
    AUDIT_READ = "audit:read"
    ASSURANCE_WRITE = "assurance:write"  # POLICY.md §7.2: age-assurance services
    ASSURANCE_READ = "assurance:read"
    APPEALS_WRITE = "appeals:write"  # DSA art. 20: the app files appeals for its users
    APPEALS_READ = "appeals:read"
    REPORTS_READ = "reports:read"  # DSA art. 16(5): a reporter sees what became of their reports
    NOTICES_READ = "notices:read"  # the app shows users their notices (issue 12.2)
    NOTICES_WRITE = "notices:write"  # ... and reports them delivered and read


ALL_SCOPES: tuple[str, ...] = tuple(s.value for s in Scope)


def parse_scopes(values: str | list[str] | tuple[str, ...]) -> list[str]:
    """Split and check a scope list; raise ValueError naming every unknown scope."""
    if isinstance(values, str):
        values = [v for v in (p.strip() for p in values.split(",")) if v]
    unknown = sorted({v for v in values if v not in ALL_SCOPES})
    if unknown:
        raise ValueError(
            f"Unknown scope(s): {', '.join(unknown)}. Known scopes: {', '.join(ALL_SCOPES)}."
        )
    return sorted(set(values), key=ALL_SCOPES.index)
