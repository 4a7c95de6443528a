"""Senior moderators and auditors see the minimum-age sweep's counts (POLICY.md §7.3): the roles
are synced again so that their groups hold `accounts.view_minimumagereview`."""

from django.db import migrations


def forwards(apps, schema_editor):
    from accounts.roles import sync_roles

    sync_roles(apps, using=schema_editor.connection.alias)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0011_minimum_age_sweep")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
