"""Sync the staff roles again once every app whose permissions they list has migrated.

`0003_staff_roles` ran before messaging, moderation and integrations had models; their own role
migrations (messaging 0003, moderation 0004) caught up for their apps. This one depends on the
latest migration of every app in `accounts.roles.ROLE_PERMISSIONS`, so that after `migrate` each
group holds exactly the table (the Administrator's API-client permissions arrive here). Later
additions: a migration like this one, or `python manage.py sync_roles`.
"""

from django.db import migrations


def forwards(apps, schema_editor):
    from accounts.roles import sync_roles

    sync_roles(apps, using=schema_editor.connection.alias)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0007_closed_account_has_no_birthdate"),
        ("audit", "0003_base_manager_refuses_writes"),
        ("messaging", "0003_staff_roles_read_message_body"),
        ("moderation", "0004_staff_roles_moderation_permissions"),
        ("integrations", "0001_initial"),
    ]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
