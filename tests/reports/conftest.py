"""The reminders' tests run the command line on a home and the test database, as the command
tests do (``tests/cli/conftest.py``)."""

from tests.cli.conftest import cli, cli_user, on_casework  # noqa: F401
