"""E-mail notices of risk reminders through the home's SMTP server (``[mail]`` in
``npldesk.toml``).

A notice carries no personal data: the unit, the month, how many items each section holds, and
the link to the pack in the web app, where the reader's own masking rules apply.

```toml
[mail]
host = "smtp.bank.local"     # empty or absent: no e-mail, the inbox only
port = 25
sender = "npldesk@bank.local"
starttls = false
username = ""                # sign in to the server when set
password = ""
link = "http://npldesk.bank.local"   # the web app's address, for the link to the pack
timeout = 30
```
"""

from __future__ import annotations

import smtplib
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from typing import TYPE_CHECKING, Any

from npldesk.core.errors import UsageError
from npldesk.core.i18n import translatable
from npldesk.home import Home
from npldesk.reports.labels import _, localise

if TYPE_CHECKING:
    from npldesk.casework.models import ReminderDelivery, ReminderPack


@dataclass(frozen=True)
class MailSettings:
    """Where and how notices are sent."""

    host: str
    port: int = 25
    sender: str = "npldesk@localhost"
    starttls: bool = False
    username: str = ""
    password: str = ""
    link: str = "http://127.0.0.1:8000"
    timeout: float = 30.0


def mail_settings(home: Home) -> MailSettings | None:
    """The home's ``[mail]`` table, or ``None`` when no SMTP server is configured."""
    table: dict[str, Any] = dict(home.config.get("mail", {}) or {})
    host = str(table.get("host", "") or "").strip()
    if not host:
        return None
    try:
        return MailSettings(
            host=host,
            port=int(table.get("port", 25)),
            sender=str(table.get("sender", "npldesk@localhost")),
            starttls=bool(table.get("starttls", False)),
            username=str(table.get("username", "")),
            password=str(table.get("password", "")),
            link=str(table.get("link", "http://127.0.0.1:8000")).rstrip("/"),
            timeout=float(table.get("timeout", 30)),
        )
    except (TypeError, ValueError) as exc:
        raise UsageError(
            translatable(
                "{file}: [mail] has a value that is not a number: {problem}",
                file=str(home.config_file),
                problem=str(exc),
            )
        ) from exc


SUBJECT = _("Risk reminders for {unit} {month}")
GREETING = _("The risk reminders of {unit} for {month} are in your inbox:")
CLOSING = _("Open the pack in npldesk (sign in first): {link}")
COUNT_LINE = _("{section}: {count}")


def notice(settings: MailSettings, pack: ReminderPack, delivery: ReminderDelivery) -> EmailMessage:
    """The notice of ``pack`` to one reader: counts and the link, in the active language."""
    from npldesk.reports.reminders import SECTIONS, section_title

    month = f"{pack.as_of:%Y-%m}"
    unit = f"{pack.unit.code} {pack.unit.name}"
    link = f"{settings.link}/inbox/{delivery.pk}/"
    lines = [localise(translatable(GREETING, unit=unit, month=month)), ""]
    for name in SECTIONS:
        lines.append(
            localise(
                translatable(
                    COUNT_LINE,
                    section=localise(section_title(name)),
                    count=int(pack.counts.get(name, 0)),
                )
            )
        )
    lines += ["", localise(translatable(CLOSING, link=link)), ""]
    message = EmailMessage()
    message["Subject"] = localise(translatable(SUBJECT, unit=unit, month=month))
    message["From"] = settings.sender
    message["To"] = delivery.person.user.email
    message["Message-ID"] = make_msgid(domain=settings.sender.rpartition("@")[2] or None)
    message.set_content("\n".join(lines))
    return message


@dataclass
class Sent:
    """The notices the server accepted (delivery id → address), and why the rest were not
    sent (empty when all were)."""

    accepted: dict[int, str]
    problem: str = ""


def send_notices(
    settings: MailSettings, pack: ReminderPack, deliveries: Sequence[ReminderDelivery]
) -> Sent:
    """Send the notice to every delivery whose person has an address. A server that cannot be
    reached, or that refuses part way, ends the sending with the problem named: the caller
    records what was accepted and then fails, so that the next run sends only the rest."""
    wanted = [d for d in deliveries if d.person.user.email]
    sent = Sent({})
    if not wanted:
        return sent
    try:
        with smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout) as server:
            if settings.starttls:
                server.starttls()
            if settings.username:
                server.login(settings.username, settings.password)
            for delivery in wanted:
                server.send_message(notice(settings, pack, delivery))
                sent.accepted[delivery.pk] = delivery.person.user.email
    except (OSError, smtplib.SMTPException) as exc:
        sent.problem = translatable(
            "cannot send e-mail through {host}:{port}: {problem}",
            host=settings.host,
            port=settings.port,
            problem=str(exc),
        )
    return sent
