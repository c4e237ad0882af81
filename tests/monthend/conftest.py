"""The month-end tests run the command line on a home and the test database, as the command
tests do (``tests/cli/conftest.py``)."""

from tests.casework.conftest import units  # noqa: F401
from tests.cli.conftest import cli, cli_user, home, on_casework  # noqa: F401
