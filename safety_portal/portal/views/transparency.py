"""The DSA transparency report's figures for a period (issue 12.5): a page with charts, and the same
figures as CSV and XLSX (`moderation.transparency_report`). For auditors, who export the
statements of reasons already (`moderation.export_statements`)."""

from __future__ import annotations

import datetime as dt
import io

from django import forms
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from moderation import transparency_report
from safety_portal.core.replica import reads_from_replica

from ..access import staff_view
from ..charts import Series, labelled_bars
from ..pages import page

PERMISSION = "moderation.export_statements"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class PeriodForm(forms.Form):
    start = forms.DateField(label="From", required=False, widget=forms.DateInput({"type": "date"}))
    end = forms.DateField(
        label="To (inclusive)", required=False, widget=forms.DateInput({"type": "date"})
    )

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        today = timezone.localdate()
        data["end"] = data.get("end") or today
        data["start"] = data.get("start") or data["end"].replace(month=1, day=1)
        if data["end"] < data["start"]:
            self.add_error("end", "The end of the period must not be before its start.")
        return data


def _figures(form: PeriodForm) -> transparency_report.TransparencyReport:
    zone = timezone.get_current_timezone()
    start = dt.datetime.combine(form.cleaned_data["start"], dt.time(), tzinfo=zone)
    end = dt.datetime.combine(form.cleaned_data["end"] + dt.timedelta(days=1), dt.time(), zone)
    return transparency_report.report(start=start, end=end)


def _bar(title: str, counts: dict[str, int], head: str):  # type: ignore[no-untyped-def]
    if not counts:
        return None
    labels = [k.replace("STATEMENT_CATEGORY_", "").replace("SOURCE_", "").lower() for k in counts]
    return labelled_bars(title, labels, [Series("Count", list(counts.values()), "s1")], head=head)


@require_GET
@staff_view(PERMISSION)
@reads_from_replica
def report_page(request: HttpRequest) -> HttpResponse:
    form = PeriodForm(request.GET or {})
    valid = form.is_valid()
    figures = _figures(form) if valid else None
    charts = []
    if figures is not None:
        charts = [
            c
            for c in (
                _bar("Notices by category", figures.notices_by_category, "Category"),
                _bar("Notices by source", figures.notices_by_source, "Source"),
                _bar("Actions by type", figures.actions_by_type, "Action"),
                _bar("Appeals by outcome", figures.appeals_by_outcome, "Outcome"),
            )
            if c is not None
        ]
    return page(
        request,
        "portal/transparency.html",
        {
            "form": form,
            "figures": figures,
            "charts": charts,
            "sheets": transparency_report.sheet_rows(figures) if figures else {},
            "query": request.GET.urlencode(),
            "period": (form.cleaned_data["start"], form.cleaned_data["end"]) if valid else None,
        },
        nav="transparency",
        status=200 if valid else 400,
    )


def _download(request: HttpRequest, kind: str) -> HttpResponse:
    form = PeriodForm(request.GET or {})
    if not form.is_valid():
        problems = "; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items())
        return HttpResponse(
            f"Cannot export: {problems}. Fix the dates and try again.",
            status=400,
            content_type="text/plain",
        )
    figures = _figures(form)
    name = f"transparency-{form.cleaned_data['start']}-{form.cleaned_data['end']}.{kind}"
    if kind == "csv":
        handle = io.StringIO()
        transparency_report.write_csv(figures, handle)
        response = HttpResponse(handle.getvalue(), content_type="text/csv; charset=utf-8")
    else:
        response = HttpResponse(transparency_report.write_xlsx(figures), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@require_GET
@staff_view(PERMISSION)
@reads_from_replica
def report_csv(request: HttpRequest) -> HttpResponse:
    return _download(request, "csv")


@require_GET
@staff_view(PERMISSION)
@reads_from_replica
def report_xlsx(request: HttpRequest) -> HttpResponse:
    return _download(request, "xlsx")
