"""What an audit reader needs, and no more (GDPR art. 5(1)(c), data minimisation).

Secrets never enter the log. A minor's exact birthdate (POLICY.md §1: anyone under 18) is replaced by
their age and tier on the day of the entry: a reviewer needs to know that a 14-year-old became a
15-year-old, not the day they were born. Adults' birthdates are kept, because age-assurance disputes
(POLICY.md §4) need them. Redaction follows the structure all the way down: a birthdate inside a
list or a nested mapping under a birthdate key (`{"birthdate": {"old": ..., "new": ...}}`) is
treated the same as one at the top.

`jsonable` also fixes the exact JSON form of every value, because the entry's hash is computed over
it before the database stores it and again after the database returns it: floats become their
`repr` string (jsonb would reprint `1e100` as a long integer), enum members become plain values,
and NUL characters (which PostgreSQL text cannot hold) become U+FFFD.
"""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from collections.abc import Callable, Mapping
from typing import Any

SECRET_MARKERS = (
    "password",
    "passcode",
    "passphrase",
    "secret",
    "token",
    "otp",
    "api_key",
    "private_key",
    "credential",
    "backup_code",
    "recovery_code",
    "session_key",
    "cookie",
    "authorization",
)
BIRTHDATE_MARKERS = ("birthdate", "birth_date", "date_of_birth")
BIRTHDATE_KEYS = ("dob",)
REDACTED = "[redacted]"

# Who counts as a minor, and their tier, is an age rule (safety_portal.rules.age), which sits above
# this floor; accounts installs it at start-up (`use_minor_summary`). Until it does, every birthdate
# is withheld whole: the log never learns a date it could not judge.
MinorSummary = Callable[[dt.date, dt.date], "dict[str, Any] | None"]
_minor_summary: MinorSummary | None = None


def use_minor_summary(summary: MinorSummary) -> None:
    """Install the rule that turns (birthdate, day) into `{"age", "tier"}` for a minor, else None."""
    global _minor_summary  # wired once at start-up, the same in every process
    _minor_summary = summary


def clean_text(value: str) -> str:
    """A plain `str` PostgreSQL can store (no NUL), whatever str subclass came in."""
    text = str.__str__(value)
    return text.replace("\x00", "\ufffd") if "\x00" in text else text


def jsonable(value: Any) -> Any:
    """Turn a value into plain JSON types, deterministically (the hash depends on it)."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, Mapping):
        return {clean_text(str(k)): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [jsonable(v) for v in value]
        return sorted(items, key=repr) if isinstance(value, set | frozenset) else items
    if hasattr(value, "pk"):
        return jsonable(value.pk)
    return clean_text(str(value))


def _as_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        for parse in (dt.date.fromisoformat, dt.datetime.fromisoformat):
            try:
                parsed = parse(value)
            except ValueError:
                continue
            return parsed.date() if isinstance(parsed, dt.datetime) else parsed
    return None


def _is_secret(key: str) -> bool:
    return any(marker in key for marker in SECRET_MARKERS)


def _is_birthdate(key: str) -> bool:
    return key in BIRTHDATE_KEYS or any(marker in key for marker in BIRTHDATE_MARKERS)


def _redact_birthdate(value: Any, *, on: dt.date) -> Any:
    """A minor's date becomes their age and tier on `on`; anything else passes through."""
    if isinstance(value, Mapping):
        return {clean_text(str(k)): _redact_birthdate(v, on=on) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redact_birthdate(v, on=on) for v in value]
    born = _as_date(value)
    if born is not None and born <= on:
        if _minor_summary is None:
            return {"redacted": "birthdate"}
        minor = _minor_summary(born, on)
        if minor is not None:
            return {"redacted": "minor", **minor}
    return jsonable(value)


def _redact_value(value: Any, *, on: dt.date) -> Any:
    if isinstance(value, Mapping):
        return redact(value, on=on)
    if isinstance(value, list | tuple):
        return [_redact_value(v, on=on) for v in value]
    return jsonable(value)


def redact(values: Mapping[str, Any] | None, *, on: dt.date) -> dict[str, Any] | None:
    """The JSON an audit entry stores for `before`/`after` (POLICY.md §1, §4; decisions D4)."""
    if values is None:
        return None
    if not isinstance(values, Mapping):
        raise TypeError(f"before/after must be a mapping of field names to values, not {values!r}")
    out: dict[str, Any] = {}
    for key, value in values.items():
        name = clean_text(str(key))
        lowered = name.lower()
        if _is_secret(lowered):
            out[name] = REDACTED
        elif _is_birthdate(lowered):
            out[name] = _redact_birthdate(value, on=on)
        else:
            out[name] = _redact_value(value, on=on)
    return out
