"""``npldesk tokens``: personal API tokens made, listed and revoked from the command line.

``--as USERNAME`` acts as that person (their own tokens; an administrator's anyone's); without
it the command acts as the system actor, which may manage anyone's tokens (``--for``). A new
token's secret is printed once and never stored in clear.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from npldesk.bootstrap import casework
from npldesk.cli.language import say, use_language
from npldesk.cli.options import AsOption, FormatOption, HomeOption, acting_person
from npldesk.cli.output import OutputFormat, console, emit
from npldesk.core.errors import UsageError
from npldesk.core.i18n import translatable
from npldesk.home import load_home

tokens_app = typer.Typer(
    help="Personal API tokens: made (shown once), listed with their last use, revoked.",
    no_args_is_help=True,
)

ForOption = Annotated[
    str | None,
    typer.Option("--for", help="Whose token (default: the --as person); others' need admin"),
]


def register(app: typer.Typer) -> None:
    app.add_typer(tokens_app, name="tokens")


def _stamp(value: Any) -> str | None:
    return None if value is None else value.isoformat(timespec="seconds")


@tokens_app.command("create")
def tokens_create(
    name: Annotated[str, typer.Argument(help="What the token is for, e.g. 'laptop script'")],
    days: Annotated[int, typer.Option("--days", help="Days until it expires (1-366)")] = 90,
    for_user: ForOption = None,
    home: HomeOption = None,
    as_user: AsOption = None,
) -> None:
    """Make an API token; its secret is printed once."""
    owner_name = for_user or as_user
    if owner_name is None:
        raise UsageError(
            translatable("say whose token: --as USERNAME (your own) or --for USERNAME")
        )
    loaded = load_home(home)
    use_language(loaded)
    with casework(loaded):
        from npldesk.casework import selectors, services

        actor = acting_person(as_user)
        owner = selectors.person_get(actor, owner_name)
        made = services.api_token_create(actor=actor, person=owner, name=name, days=days)
        token = made.token
    out = console()
    made_for = translatable(
        "token {prefix} for {person} ({name}), expires {expires}",
        prefix=token.prefix,
        person=owner_name,
        name=token.name,
        expires=_stamp(token.expires_at),
    )
    out.print(say(made_for))
    secret = translatable("secret (shown once, not stored in clear): {secret}", secret=made.secret)
    out.print(say(secret), soft_wrap=True)


@tokens_app.command("list")
def tokens_list(
    for_user: ForOption = None,
    home: HomeOption = None,
    output: FormatOption = OutputFormat.table,
    as_user: AsOption = None,
) -> None:
    """Tokens with when they were made, expire, were last used or revoked."""
    loaded = load_home(home)
    with casework(loaded):
        from npldesk.casework import selectors

        actor = acting_person(as_user)
        owner = selectors.person_get(actor, for_user) if for_user else None
        rows = [
            {
                "prefix": t.prefix,
                "person": t.person.user.get_username(),
                "name": t.name,
                "created_at": _stamp(t.created_at),
                "expires_at": _stamp(t.expires_at),
                "last_used_at": _stamp(t.last_used_at),
                "revoked_at": _stamp(t.revoked_at),
            }
            for t in selectors.api_tokens(actor, owner=owner)
        ]
    columns = ["prefix", "person", "name", "created_at", "expires_at", "last_used_at", "revoked_at"]
    if output is not OutputFormat.table:
        emit(rows, columns, output, json_document={"tokens": rows})
        return
    use_language(loaded)
    emit(
        rows,
        columns,
        output,
        title=say(translatable("API tokens ({count})", count=len(rows))),
        headers={
            "prefix": say(_("Prefix")),
            "person": say(_("Person")),
            "name": say(_("Name")),
            "created_at": say(_("Made at")),
            "expires_at": say(_("Expires at")),
            "last_used_at": say(_("Last used at")),
            "revoked_at": say(_("Revoked at")),
        },
    )


@tokens_app.command("revoke")
def tokens_revoke(
    prefix: Annotated[str, typer.Argument(help="The token's prefix, as `tokens list` shows it")],
    home: HomeOption = None,
    as_user: AsOption = None,
) -> None:
    """Revoke a token at once."""
    loaded = load_home(home)
    use_language(loaded)
    with casework(loaded):
        from npldesk.casework import selectors, services

        actor = acting_person(as_user)
        token = services.api_token_revoke(actor=actor, token=selectors.api_token_get(actor, prefix))
    console().print(say(translatable("token {prefix} revoked", prefix=token.prefix)))


def _(message: str) -> str:
    """Marks a message for the catalogues; ``say`` translates it when it is printed."""
    return message
