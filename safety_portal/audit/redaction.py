"""What an audit reader needs, and no more (GDPR art. 5(1)(c), data minimisation).

Secrets never enter the log. A minor's exact birthdate is replaced by their age and tier on the day of
the entry: a reviewer needs to know that a 14-year-old became a 15-year-old, not the day they were
born. Adults' birthdates are kept, because age-assurance disputes need them.
"""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from collections.abc import Mapping
from typing import Any

from accounts import policy

SECRET_MARKERS = ("password", "secret", "token", "otp", "api_key", "private_key")
REDACTED = "[redacted]"


def jsonable(value: Any) -> Any:
    """Turn a value into plain JSON types, deterministically (the hash depends on it)."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [jsonable(v) for v in value]
        return sorted(items, key=repr) if isinstance(value, set | frozenset) else items
    if hasattr(value, "pk"):
        return value.pk
    return str(value)


def _as_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return None
    return None


def redact(values: Mapping[str, Any] | None, *, on: dt.date) -> dict[str, Any] | None:
    if values is None:
        return None
    out: dict[str, Any] = {}
    for key, value in values.items():
        lowered = key.lower()
        if any(marker in lowered for marker in SECRET_MARKERS):
            out[key] = REDACTED
            continue
        if "birthdate" in lowered:
            born = _as_date(value)
            if born is not None and born <= on and policy.age_on(born, on) < 18:
                age = policy.age_on(born, on)
                out[key] = {"redacted": "minor", "age": age, "tier": str(policy.tier_for_age(age))}
                continue
        if isinstance(value, Mapping):
            out[key] = redact(value, on=on)
        else:
            out[key] = jsonable(value)
    return out
