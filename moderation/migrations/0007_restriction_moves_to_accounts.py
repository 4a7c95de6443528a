"""Hand `Restriction` to accounts (issue 10) without moving a row.

1. Every restriction a decision imposed gets its line in the effect ledger if it lacks one, so the
   link survives the next step (decisions have always written it; this is a guard, not a fix-up).
2. The `decision` column goes: the ledger (`DecisionEffect.restriction`) is the one link, and it
   points down from moderation to accounts.
3. The two foreign keys that name the model follow it; the model leaves moderation's state (the
   table, `moderation_restriction`, is now accounts' — see accounts 0009).
4. The content type and its permissions are relabelled, so staff groups keep what they held, and
   the roles are synced against `accounts.view_restriction`.
"""

import django.db.models.deletion
from django.db import migrations, models


def record_missing_effects(apps, schema_editor):
    restriction_model = apps.get_model("moderation", "Restriction")
    effect_model = apps.get_model("moderation", "DecisionEffect")
    db = schema_editor.connection.alias
    recorded = set(
        effect_model.objects.using(db)
        .filter(kind="restriction", restriction__isnull=False)
        .values_list("restriction_id", flat=True)
    )
    missing = (
        restriction_model.objects.using(db)
        .filter(decision__isnull=False)
        .exclude(pk__in=recorded)
        .values_list("pk", "decision_id", "user_id")
    )
    effect_model.objects.using(db).bulk_create(
        effect_model(kind="restriction", decision_id=d, restriction_id=r, user_id=u)
        for r, d, u in missing
    )


def relabel_content_type(apps, schema_editor):
    content_type_model = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    old = content_type_model.objects.using(db).filter(app_label="moderation", model="restriction")
    if content_type_model.objects.using(db).filter(app_label="accounts", model="restriction").exists():
        old.delete()  # the new label exists already; its permissions are created afresh
    else:
        old.update(app_label="accounts")


def unlabel_content_type(apps, schema_editor):
    content_type_model = apps.get_model("contenttypes", "ContentType")
    content_type_model.objects.using(schema_editor.connection.alias).filter(
        app_label="accounts", model="restriction"
    ).update(app_label="moderation")


def sync_roles(apps, schema_editor):
    from accounts.roles import sync_roles as sync  # body import: migrations run the live roles table

    sync(apps, using=schema_editor.connection.alias)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0009_restriction_lives_with_the_account"),
        ("moderation", "0006_report_index_trim"),
    ]

    operations = [
        migrations.RunPython(record_missing_effects, migrations.RunPython.noop),
        migrations.RemoveField(model_name="restriction", name="decision"),
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.AlterField(
                    model_name="notice",
                    name="restriction",
                    field=models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="notices",
                        to="accounts.restriction",
                    ),
                ),
                migrations.AlterField(
                    model_name="decisioneffect",
                    name="restriction",
                    field=models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="accounts.restriction",
                    ),
                ),
                migrations.DeleteModel(name="Restriction"),
            ],
        ),
        migrations.RunPython(relabel_content_type, unlabel_content_type),
        migrations.RunPython(sync_roles, migrations.RunPython.noop),
    ]
