"""Portal lists at 1,000,000 rows: the case list, the audit log and the user list (issue 5).

Each page is rendered end to end through Django's test client — middleware, session, second-factor
check, the view's queries and the template — with a signed-in, verified staff session, and timed
against the stock Django admin changelist of the same model on the same data in the same run (a
plain `ModelAdmin` on a throwaway `AdminSite`, mounted only for this benchmark). Target: at least
10x faster and under 300 ms median.

Why the portal pages are fast: no COUNT(*) over a large table (PostgreSQL's `pg_class.reltuples`
estimate, or a capped count on filtered lists), keyset or bounded pages over the models' own
ordered indexes (`case_queue`, the audit log's primary key, the user primary key), `select_related` for
every name shown, and templates with no per-row query. The stock changelist counts the table
twice (the filtered count and the full count) and renders 100 rows.

The customised admin user changelist (estimating paginator, `show_full_result_count = False`) is
measured as well, for the Administrator's page.

Data sets are the other benchmarks', built once with COPY and cached (`bench_dataset`):
1,000,000 app users (`bench_accounts`), 1,000,000 cases with 3,000,000 reports
(`bench_moderation`), and a 1,000,000-entry audit chain (`bench_audit`). Options: `--repeat N`.
"""

from __future__ import annotations

import argparse
import sys

from django.contrib import admin
from django.db import connection
from django.test import Client, override_settings
from django.urls import include, path

from accounts.models import User
from bench.harness import Figure, median_ms, scaled, spread, timed
from moderation.models import Case
from safety_portal.core.audit.models import AuditEntry

ROWS = scaled(1_000_000)
TARGET = ">= 10x faster, < 300 ms"
BENCH_USER = "bench_portal_viewer"

# The stock admin: plain ModelAdmins, Django's defaults (list_per_page 100, full counts).
stock_site = admin.AdminSite(name="stock_admin")
for _model in (Case, AuditEntry, User):
    stock_site.register(_model, admin.ModelAdmin)

# This module doubles as the benchmark's URLconf: the portal as deployed, plus the stock admin.
urlpatterns = [
    path("stock-admin/", stock_site.urls),
    path("", include("safety_portal.urls")),
]


def run(argv: list[str]) -> list[Figure]:
    parser = argparse.ArgumentParser(prog="bench_portal", add_help=False)
    parser.add_argument("--repeat", type=int, default=21)
    args, _ = parser.parse_known_args(argv)

    ensure_datasets()
    client = verified_client()
    pages = [
        ("case list", "/cases/", "/stock-admin/moderation/case/"),
        ("case list, all open", "/cases/?view=open", "/stock-admin/moderation/case/"),
        ("audit log", "/audit/", "/stock-admin/audit/auditentry/"),
        ("user list", "/users/", "/stock-admin/accounts/user/"),
        ("admin user changelist", "/admin/accounts/user/", "/stock-admin/accounts/user/"),
    ]
    figures: list[Figure] = []
    # Production runs with DEBUG off; a debug cursor would log every query on both sides.
    with override_settings(DEBUG=False, ROOT_URLCONF=__name__, ALLOWED_HOSTS=["testserver"]):
        for label, ours, stock in pages:
            mine, theirs = interleaved(client, ours, stock, repeat=args.repeat)
            ratio = median_ms(theirs) / median_ms(mine)
            figures.append(
                Figure(
                    "portal",
                    f"{label}, median render",
                    median_ms(mine),
                    "ms",
                    baseline=median_ms(theirs),
                    target=TARGET,
                    note=f"stock admin changelist is {ratio:.1f}x slower; {_sizes()}; "
                    f"{spread(mine, theirs)}",
                )
            )
    return figures


def interleaved(client: Client, ours: str, stock: str, *, repeat: int) -> tuple[list, list]:
    """Time the two pages alternately, so that both see the same machine load (the benchmark
    shares its cores with whatever else runs)."""
    for url in (ours, ours, stock):
        _get(client, url)  # warm-up: caches, connections, the template loader
    mine: list[float] = []
    theirs: list[float] = []
    for _ in range(repeat):
        mine.extend(timed(lambda: _get(client, ours), repeat=1, warmup=0))
        theirs.extend(timed(lambda: _get(client, stock), repeat=1, warmup=0))
    return mine, theirs


def _get(client: Client, url: str) -> None:
    response = client.get(url)
    if response.status_code != 200:
        raise AssertionError(f"{url} answered {response.status_code}")
    # Render lazily built responses fully, as a browser would receive them.
    _ = response.content


def _sizes() -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, reltuples::bigint FROM pg_class WHERE relname = ANY(%s)",
            [["moderation_case", "audit_auditentry", "accounts_user"]],
        )
        rows = dict(cursor.fetchall())
    return ", ".join(f"{name} ~{rows.get(name, 0):,}" for name in sorted(rows))


def ensure_datasets() -> None:
    """Reuse the other benchmarks' cached data sets; build them (with COPY) only when missing."""
    from bench import bench_accounts, bench_audit, bench_moderation
    from bench.harness import dataset_ready, mark_dataset

    bench_accounts.ensure_dataset(ROWS, rebuild=False)
    bench_moderation.ensure_dataset(rebuild=False)
    name = f"audit_chain_{ROWS}"
    head = bench_audit._head()
    if not dataset_ready(name) or (head[0] if head else 0) < ROWS:
        print("building the audit chain (bench_audit)", file=sys.stderr)
        bench_audit._build_chain(ROWS)
        mark_dataset(name)
    with connection.cursor() as cursor:
        for table in ("accounts_user", "moderation_case", "audit_auditentry"):
            cursor.execute(f"ANALYZE {table}")


def verified_client() -> Client:
    """A superuser session past both factors (the OTP middleware checks every request)."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    user = User.objects.filter(username=BENCH_USER).first()
    if user is None:
        user = User.objects.create_superuser(username=BENCH_USER, password=None, email="")
    device, _ = TOTPDevice.objects.get_or_create(
        user=user, name="bench", defaults={"confirmed": True}
    )
    client = Client()
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client
