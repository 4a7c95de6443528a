"""POLICY.md §7.4: a new setting, "connection lists visible to others", and the mark a linked
guardian's approval leaves on a 13-15-year-old's public account.

Connection lists were visible to everyone before this setting existed. Each existing row gets its
tier's default as of the day the migration runs: visible for adults (nothing changes for them),
hidden for minors (the protective default; hidden and locked for 13-15). The other §7.4 changes to
existing minors' settings are audited changes with a notice, made by
`manage.py apply_minor_defaults` (docs/decisions.md D14), not here.
"""

import datetime as dt

from django.conf import settings
from django.db import migrations, models


def set_tier_defaults(apps, schema_editor):
    from zoneinfo import ZoneInfo

    from safety_portal.rules.ages import ADULT_AGE, latest_birthdate_for_age

    settings_model = apps.get_model("accounts", "SafetySettings")
    db = schema_editor.connection.alias
    today = dt.datetime.now(ZoneInfo(settings.TIME_ZONE)).date()
    adult_cutoff = latest_birthdate_for_age(ADULT_AGE, today)
    settings_model.objects.using(db).filter(user__birthdate__lte=adult_cutoff).update(
        connections_visible=True
    )


class Migration(migrations.Migration):
    dependencies = [("accounts", "0009_restriction_lives_with_the_account")]

    operations = [
        migrations.AddField(
            model_name="safetysettings",
            name="connections_visible",
            field=models.BooleanField(
                default=False,
                help_text="Others may see who the user follows and who follows them (POLICY.md §7.4).",
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="safetysettings",
            name="guardian_approved_public_at",
            field=models.DateTimeField(
                blank=True,
                null=True,
                help_text="When a linked guardian approved making a 13-15-year-old's account public "
                "(POLICY.md §7.4); cleared when the account is private again.",
            ),
        ),
        migrations.RunPython(set_tier_defaults, migrations.RunPython.noop),
    ]
