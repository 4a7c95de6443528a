"""Give the staff roles `messaging.read_message_body`, which exists from 0001 on.

`accounts.roles.ROLE_PERMISSIONS` lists it for Triage and above; `accounts/migrations/0003` ran
before this app's permission existed and skipped it, so the roles are synced again here (the
pattern that migration's docstring asks for).
"""

from django.db import migrations


def forwards(apps, schema_editor):
    from accounts.roles import sync_roles

    sync_roles(apps, using=schema_editor.connection.alias)


class Migration(migrations.Migration):
    dependencies = [
        ("messaging", "0002_guard_triggers"),
        ("accounts", "0003_staff_roles"),
    ]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
