"""The web's one error table: what each application error becomes for a signed-in person.

A refusal is a 404, never a 403 that confirms something exists (an object, unit or team outside
the person's scope, or a page their role never uses). A stale edit (``Conflict``) and an action
that does not fit the object (``InvalidAction``) go back to the page they came from with the
message; the form's other input is kept by the browser.
"""

from __future__ import annotations

from npldesk.casework.errors import AccessDenied, Conflict, InvalidAction, NotFound
from npldesk.core.errors import NpldeskError

# Error class → HTTP status when it ends a request (the first matching class wins).
ERROR_STATUS: tuple[tuple[type[NpldeskError], int], ...] = (
    (NotFound, 404),
    (AccessDenied, 404),
    (Conflict, 409),
    (InvalidAction, 400),
    (NpldeskError, 400),
)


def status_for(error: NpldeskError) -> int:
    for kind, status in ERROR_STATUS:
        if isinstance(error, kind):
            return status
    return 400
