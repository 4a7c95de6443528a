"""Which database constraint refused a write: the managers turn a trigger's refusal into a domain error."""

from __future__ import annotations

from django.db import DatabaseError


def constraint_of(exc: DatabaseError) -> str | None:
    """The name of the PostgreSQL constraint or trigger check behind an IntegrityError, if any
    (the triggers raise with `CONSTRAINT = '<name>'`)."""
    diag = getattr(exc.__cause__, "diag", None)
    return getattr(diag, "constraint_name", None)
