"""Text the product says, marked so that a face can say it in the reader's language.

The layers below the faces know nothing of Django, so a message they raise or return is English
text built by ``translatable``: a ``str`` (what logs, JSON and tests see) that keeps its template
and values. A face looks the template up in the message catalogues (``npldesk/locale``) and
fills in the same values. ``scripts/messages.py`` collects every template marked this way, with
the strings marked by Django's ``gettext`` family, into the catalogues.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any


class Translatable(str):
    """English text with the template and values it was made from."""

    template: str
    values: Mapping[str, Any]

    def __new__(cls, template: str, values: Mapping[str, Any]) -> Translatable:
        text = super().__new__(cls, template.format(**values))
        text.template = template
        text.values = dict(values)
        return text

    def __reduce__(self) -> tuple[type[Translatable], tuple[str, dict[str, Any]]]:
        """Pickled (a cache keeps it) as its template and values, so it stays marked."""
        return (Translatable, (self.template, dict(self.values)))

    def render(self, template: str, translate: Callable[[Any], str] = str) -> str:
        """The same values in another wording of the template (a translation); values that
        are themselves marked are said by ``translate``."""
        values = {
            name: translate(value) if isinstance(value, Translatable) else value
            for name, value in self.values.items()
        }
        return template.format(**values)


def translatable(template: str, /, **values: Any) -> Translatable:
    """``template.format(**values)``, marked for translation (``{name}`` placeholders)."""
    return Translatable(template, values)


def marker(message: str) -> str:
    """Marks ``message`` for the catalogues (``scripts/messages.py`` collects ``_``); a
    template whose values are filled in later by ``translatable``."""
    return message


def as_data(text: object) -> object:
    """``text`` as JSON data that keeps its marking: a marked message becomes its template and
    values (``from_data`` makes it again); anything else stays as it is."""
    if not isinstance(text, Translatable):
        return text
    values: dict[str, object] = {}
    for name, value in text.values.items():
        if isinstance(value, Translatable):
            values[name] = as_data(value)
        elif value is None or isinstance(value, bool | int | float | str):
            values[name] = value
        else:
            values[name] = str(value)
    return {"template": text.template, "values": values}


def from_data(data: object) -> object:
    """A marked message again from what ``as_data`` made of it."""
    if isinstance(data, dict) and isinstance(data.get("template"), str):
        values = data.get("values") or {}
        try:
            return Translatable(data["template"], {k: from_data(v) for k, v in values.items()})
        except (KeyError, IndexError, ValueError):
            return data["template"]
    return data
