"""Create the staff roles (Django groups with exact permissions) from `accounts.roles`.

The role table lives in `accounts/roles.py`; this migration applies it. It depends on the latest
migration of every app whose permissions a role lists, so that those permissions exist. When a later
issue adds a permission to a role, add a migration like this one (RunPython calling `sync_roles`)
after that app's migration, or run `python manage.py sync_roles`; a test fails while any role is
out of step with the table.
"""

from django.db import migrations


def forwards(apps, schema_editor):
    from accounts.roles import sync_roles

    sync_roles(apps, using=schema_editor.connection.alias)


def backwards(apps, schema_editor):
    from accounts.roles import Role

    Group = apps.get_model("auth", "Group")
    Group.objects.using(schema_editor.connection.alias).filter(
        name__in=[role.value for role in Role]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_birthdate_guard_trigger"),
        ("audit", "0002_append_only_triggers"),
        ("moderation", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]
    operations = [migrations.RunPython(forwards, backwards)]
