"""`Restriction` moves from moderation to accounts (issue 10): state only, the table stays.

Messaging reads restrictions to decide whether a person may send, and messaging stands below
moderation; the restriction therefore lives with the account it restricts. The table keeps its
name `moderation_restriction`, so no row moves. Moderation's migration 0007 drops the old
`decision` column (the link lives in its effect ledger) and removes the model from its own state.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0008_staff_roles_after_all_apps"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name="Restriction",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "kind",
                            models.CharField(
                                choices=[
                                    ("feature", "Feature restricted"),
                                    ("suspension", "Account suspended"),
                                ],
                                max_length=12,
                            ),
                        ),
                        (
                            "feature",
                            models.CharField(
                                blank=True,
                                choices=[
                                    ("direct_messages", "Direct messages"),
                                    ("comments", "Comments"),
                                    ("livestream", "Livestream"),
                                    ("gifts", "Gifts"),
                                ],
                                max_length=20,
                            ),
                        ),
                        ("reason", models.TextField()),
                        ("starts_at", models.DateTimeField()),
                        (
                            "ends_at",
                            models.DateTimeField(
                                blank=True, help_text="Empty means until lifted.", null=True
                            ),
                        ),
                        ("lifted_at", models.DateTimeField(blank=True, null=True)),
                        ("end_recorded_at", models.DateTimeField(blank=True, null=True)),
                        ("created_at", models.DateTimeField()),
                        ("lift_reason", models.TextField(blank=True)),
                        (
                            "user",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="restrictions",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "db_table": "moderation_restriction",
                        "indexes": [
                            models.Index(fields=["user", "ends_at"], name="restriction_user_ends"),
                            models.Index(
                                condition=models.Q(
                                    ("end_recorded_at__isnull", True),
                                    ("ends_at__isnull", False),
                                    ("lifted_at__isnull", True),
                                ),
                                fields=["ends_at"],
                                name="restriction_end_unrecorded",
                            ),
                        ],
                        "constraints": [
                            models.CheckConstraint(
                                condition=models.Q(
                                    models.Q(
                                        ("kind", "feature"),
                                        models.Q(("feature", ""), _negated=True),
                                    ),
                                    models.Q(("kind", "suspension"), ("feature", "")),
                                    _connector="OR",
                                ),
                                name="feature_restriction_names_feature",
                            ),
                            models.CheckConstraint(
                                condition=models.Q(
                                    ("ends_at__isnull", True),
                                    ("ends_at__gt", models.F("starts_at")),
                                    _connector="OR",
                                ),
                                name="restriction_ends_after_start",
                            ),
                        ],
                    },
                ),
            ],
        ),
    ]
