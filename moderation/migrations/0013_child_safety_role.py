"""The Child safety lead role (issue 12.6) holds the escalation queue's permissions: the roles are
synced again now that `moderation.ChildSafetyEscalation` and `accounts.LegalHold` exist."""

from django.db import migrations


def forwards(apps, schema_editor):
    from accounts.roles import sync_roles

    sync_roles(apps, using=schema_editor.connection.alias)


class Migration(migrations.Migration):
    dependencies = [
        ("moderation", "0012_child_safety_escalation"),
        ("accounts", "0016_legal_hold"),
        ("messaging", "0003_staff_roles_read_message_body"),
    ]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
