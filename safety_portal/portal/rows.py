"""Table rows of the big lists, built in Python instead of per-row template includes.

Why: a Django template `{% include %}` (and `timesince`) per cell costs a fraction of a millisecond;
fifty rows of them was most of a list page's time, and the lists must stay an order of magnitude
faster than the stock admin at a million rows (issue 5, bench/bench_portal.py). Every text value
goes through `_e` (HTML escaping, quotes included) exactly where a template would escape it; numbers
are formatted with `int()`; nothing else is interpolated.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from functools import cache
from html import escape as _escape
from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from .presentation import AgeView

_PLACEHOLDER = 987654321


def _e(value: object) -> str:
    return _escape(str(value), quote=True)


def _dotted(code: str) -> str:
    """An escaped dotted action code that wraps only after its dots (never mid-word)."""
    return ".<wbr>".join(_e(part) for part in code.split("."))


@cache
def url_maker(name: str) -> Callable[[int], str]:
    """`reverse(name, args=[pk])` for many rows at the cost of one reverse."""
    pattern = reverse(name, args=[_PLACEHOLDER])
    head, tail = pattern.split(str(_PLACEHOLDER))
    return lambda pk: f"{head}{int(pk)}{tail}"


STATUS = {
    "active": ("ok", "Active"),
    "suspended": ("danger", "Suspended"),
    "banned": ("danger", "Banned"),
    "restricted": ("warn", "Restricted"),
    "under_age_review": ("minor", "Under-age review"),
}


def badge(css: str, text: str) -> str:
    return f'<span class="badge {_e(css)}">{_e(text)}</span>'


def status_badge(status: str) -> str:
    css, text = STATUS.get(status, ("", status))
    return badge(css, text)


def age_badge(age: AgeView | None) -> str:
    if age is None:
        return ""
    kind = "minor" if age.minor else "outline"
    return f'{badge(kind, age.label)} <span class="nowrap">{int(age.years)} y</span>'


def band_badge(priority: int, label: str) -> str:
    return badge(f"p{int(priority)}", label)


def _chain_position(entry: Any) -> str:
    """Where the entry sits in the hash chain: linked within seconds of its commit (D23)."""
    if entry.seq is None:
        return "not linked into the hash chain yet"
    return f"hash chain position #{int(entry.seq)}"


def _local(moment: dt.datetime, zone: Any = None) -> dt.datetime:
    """`timezone.localtime`; pass the zone when converting many values (one lookup per table)."""
    return moment.astimezone(zone or timezone.get_current_timezone())


def span_text(delta: dt.timedelta) -> str:
    """A short duration a moderator reads at a glance: '2 d 5 h', '3 h 40 min', '12 min'."""
    minutes = int(abs(delta.total_seconds()) // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {mins} min"
    return f"{mins} min"


def due(
    due_at: dt.datetime, *, now: dt.datetime, overdue: bool, soon: bool, zone: Any = None
) -> str:
    css = "due overdue" if overdue else ("due soon" if soon else "due")
    text = f"overdue {span_text(now - due_at)}" if overdue else f"in {span_text(due_at - now)}"
    title = _local(due_at, zone).strftime("%Y-%m-%d %H:%M")
    return f'<span class="{css}" title="{title}">{text}</span>'


def _short(moment: dt.datetime | None, zone: Any = None) -> str:
    return _local(moment, zone).strftime("%b %-d, %H:%M") if moment else ""


def case_rows(
    rows: Iterable[Any], *, now: dt.datetime, decided: bool = False, holder: bool = True
) -> SafeString:
    """`<tr>`s of the case list from `views.cases.CaseRow`s."""
    case_url = url_maker("portal:case")
    zone = timezone.get_current_timezone()
    out = []
    for row in rows:
        case = row.case
        subject = _e(case.get_subject_type_display())
        if case.subject_user is not None:
            subject += " · " + _e(case.subject_user.username)
        marks = []
        if row.age is not None:
            marks.append(age_badge(row.age))
        elif case.involves_minor:
            marks.append(badge("minor", "minor involved"))
        if case.trusted_flagger:
            marks.append(badge("info", "trusted flagger"))
        state = ""
        if case.status == "escalated":
            state = badge("warn", "escalated")
        elif case.status == "decided":
            state = badge("ok", "decided")
        when = (
            _short(case.decided_at, zone)
            if decided
            else due(case.due_at, now=now, overdue=row.overdue, soon=row.due_soon, zone=zone)
        )
        held = ""
        if holder:
            held = f"<td>{_e(case.claimed_by.username) if case.claimed_by_id else ''}</td>"
        out.append(
            f'<tr class="{"overdue" if row.overdue else ""}">'
            f"<td>{band_badge(case.priority, row.band)}</td>"
            f'<td><a class="primary" href="{case_url(case.pk)}">#{int(case.pk)}</a> {state}</td>'
            f"<td>{subject} {' '.join(marks)}</td>"
            f"<td>{_e(row.category)}</td>"
            f'<td class="num">{int(case.report_count)}</td>'
            f'<td class="nowrap">{_short(case.opened_at, zone)}</td>'
            f'<td class="nowrap">{when}</td>{held}</tr>'
        )
    return mark_safe("".join(out))  # noqa: S308 - every text value above went through _e


def user_rows(rows: Iterable[dict[str, Any]], *, show_age: bool) -> SafeString:
    user_url = url_maker("portal:user_detail")
    zone = timezone.get_current_timezone()
    out = []
    for row in rows:
        user = row["user"]
        staff = badge("info", "staff") if user.is_staff else ""
        age = ""
        if show_age:
            inner = '<span class="muted">staff</span>' if user.birthdate is None else ""
            age = f"<td>{inner or age_badge(row['age'])}</td>"
        country = getattr(user.country, "code", "") or ""
        out.append(
            f'<tr><td><a class="primary" href="{user_url(user.pk)}">{_e(user.username)}</a> '
            f'{staff}</td><td class="mono">{_e(user.external_id or "")}</td>'
            f"<td>{_e(country)}</td>{age}<td>{status_badge(user.status)}</td>"
            f'<td class="nowrap">{_local(user.date_joined, zone).strftime("%Y-%m-%d")}</td></tr>'
        )
    return mark_safe("".join(out))  # noqa: S308 - every text value above went through _e


def _change_cell(before: tuple[str, str], after: tuple[str, str]) -> str:
    parts = []
    for word, (line, full) in (("before", before), ("after", after)):
        if line:
            parts.append(
                f'<details><summary><span class="muted">{word}</span> {_e(line)}</summary>'
                f'<pre class="diff">{_e(full)}</pre></details>'
            )
    return f'<td class="change">{"".join(parts)}</td>'


def audit_rows(rows: Iterable[Any]) -> SafeString:
    zone = timezone.get_current_timezone()
    out = []
    for row in rows:
        e = row.entry
        at = _local(e.created_at, zone)
        target = ""
        if e.target_type:
            label = e.target_label if len(e.target_label) <= 48 else e.target_label[:47] + "…"
            target = (
                f'<div>{_e(label)}</div><span class="muted">{_e(e.target_type)} '
                f"{_e(e.target_id)}</span>"
            )
        reason = e.reason if len(e.reason) <= 140 else e.reason[:139] + "…"
        out.append(
            f'<tr><td class="num mono" title="{_chain_position(e)}">{int(e.id)}</td>'
            f'<td class="nowrap">{at:%Y-%m-%d}<br><span class="muted">{at:%H:%M:%S}</span></td>'
            f'<td><div>{_e(e.actor_label)}</div><span class="muted">'
            f"{_e(e.get_actor_kind_display())}</span></td>"
            f'<td><span class="action-code">{_dotted(e.action)}</span></td><td>{target}</td>'
            f'<td class="reason">{_e(reason)}</td>{_change_cell(row.before, row.after)}</tr>'
        )
    return mark_safe("".join(out))  # noqa: S308 - every text value above went through _e
