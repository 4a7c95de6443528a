"""The minimum-age sweep's counts for a regulator (POLICY.md §7.3): per country and period, how many
accounts were found below the minimum age, notified, verified older, deactivated, appealed and
reinstated; as a page with a chart and as the same CSV `manage.py minimum_age_sweep --counts`
writes."""

from __future__ import annotations

import datetime as dt
import io

from django import forms
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from accounts import minimum_age_sweep as sweeps
from accounts.choices import COUNTRY_CODES

from ..access import staff_view
from ..charts import Series, labelled_bars
from ..pages import page

PERMISSION = "accounts.view_minimumagereview"
DEFAULT_PERIOD_DAYS = 365
COLUMN_LABELS = {
    "found": "Found",
    "notified": "Notified",
    "verified_older": "Verified older",
    "deactivated": "Deactivated",
    "appealed": "Appealed",
    "reinstated": "Reinstated",
}


class CountsForm(forms.Form):
    start = forms.DateField(
        label="From", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label="To", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    country = forms.CharField(
        required=False, max_length=2, help_text="Two letters (ISO 3166-1), or empty for all."
    )

    def clean_country(self) -> str:
        code = self.cleaned_data["country"].strip().upper()
        if code and code not in COUNTRY_CODES:
            raise forms.ValidationError(
                f"{code!r} is not a country code: use two letters, e.g. AU."
            )
        return code

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        today = timezone.localdate()
        data["end"] = data.get("end") or today
        data["start"] = data.get("start") or data["end"] - dt.timedelta(days=DEFAULT_PERIOD_DAYS)
        if data["end"] < data["start"]:
            self.add_error("end", "The end of the period must not be before its start.")
        return data


def _counts(form: CountsForm) -> list[dict[str, object]]:
    data = form.cleaned_data
    return sweeps.regulator_counts(
        start_on=data["start"], end_on=data["end"], country=data["country"] or None
    )


@require_GET
@staff_view(PERMISSION)
def counts(request: HttpRequest) -> HttpResponse:
    form = CountsForm(request.GET or {})
    valid = form.is_valid()
    rows = _counts(form) if valid else []
    chart = None
    if rows:
        still_open = [
            int(r["found"])
            - int(r["verified_older"])
            - int(r["reinstated"])
            - int(r["deactivated"])
            for r in rows
        ]
        chart = labelled_bars(
            "Accounts found below the minimum age, by country and outcome",
            [str(r["country"]) for r in rows],
            [
                Series("Still under review", still_open, "s6"),
                Series("Verified old enough", [r["verified_older"] for r in rows], "s4"),
                Series("Reinstated on appeal", [r["reinstated"] for r in rows], "s1"),
                Series("Deactivated", [r["deactivated"] for r in rows], "s2"),
            ],
            head="Country",
        )
    return page(
        request,
        "portal/minimum_age.html",
        {
            "form": form,
            "rows": rows,
            "chart": chart,
            "columns": [(c, COLUMN_LABELS[c]) for c in sweeps.COUNT_COLUMNS],
            "query": request.GET.urlencode(),
            "period": (form.cleaned_data["start"], form.cleaned_data["end"]) if valid else None,
        },
        nav="minimum_age",
        status=200 if valid else 400,
    )


@require_GET
@staff_view(PERMISSION)
def counts_csv(request: HttpRequest) -> HttpResponse:
    form = CountsForm(request.GET or {})
    if not form.is_valid():
        problems = "; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items())
        return HttpResponse(
            f"Cannot export: {problems}. Fix the dates or the country and try again.",
            status=400,
            content_type="text/plain",
        )
    handle = io.StringIO()
    sweeps.write_counts_csv(_counts(form), handle)
    start, end = form.cleaned_data["start"], form.cleaned_data["end"]
    response = HttpResponse(handle.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="minimum-age-counts-{start.isoformat()}-{end.isoformat()}.csv"'
    )
    return response
