"""The system actor: the person record month-end jobs and the command line act as.

It can never sign in: its login has no usable password and is inactive, and the person is
inactive, so no sign-in path finds it. ``access.is_system_actor`` knows it by its role, which
no service can give (``docs/adr/0008-system-actor-and-who-works-a-case.md``).
"""

from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import is_password_usable, make_password
from django.db import migrations

USERNAME = "system"
ROLE = "system"
NAME = "System (month-end jobs and the command line)"


def create(apps: Any, schema_editor: Any) -> None:
    """Create the system actor unless it exists (idempotent: tests call it again on a flushed
    database). A member of staff already signed up as ``system`` stops the migration: their
    login would otherwise become the system's."""
    user_model = apps.get_model(settings.AUTH_USER_MODEL)
    person_model = apps.get_model("casework", "Person")
    user = user_model.objects.filter(username=USERNAME).first()
    if user is None:
        user = user_model.objects.create(
            username=USERNAME, password=make_password(None), is_active=False
        )
    person = person_model.objects.filter(user=user).first()
    if person is None and (user.is_active or is_password_usable(user.password)):
        raise RuntimeError(
            f"a login named {USERNAME!r} exists: rename it before upgrading, the system actor "
            "takes that name"
        )
    if person is None:
        person_model.objects.create(user=user, name=NAME, roles=[ROLE], active=False)
    elif person.roles != [ROLE]:
        raise RuntimeError(
            f"user {USERNAME!r} is a member of staff: rename them before upgrading, the system "
            "actor takes that name"
        )


class Migration(migrations.Migration):
    dependencies = [("casework", "0002_default_departments")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
