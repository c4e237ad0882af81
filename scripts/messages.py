"""Keep npldesk's message catalogues (``npldesk/locale``) in step with the code.

    python scripts/messages.py update   # add new marked strings, drop gone ones, compile .mo
    python scripts/messages.py check    # exit 1 naming strings without Chinese or a stale .mo

A string is marked when it is the message of a call to ``_``, ``gettext``, ``gettext_lazy``,
``gettext_noop``, ``pgettext``, ``pgettext_lazy`` (with its context) or ``translatable``
(``npldesk.core.i18n``: messages built below the faces, ``{name}`` placeholders). Translations
already in a catalogue are kept. The ``.mo`` files are compiled here, in Python, in the format
GNU gettext and Django read, so neither the tests nor a fresh checkout need the gettext tools.
"""

from __future__ import annotations

import argparse
import ast
import re
import struct
import sys
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "npldesk"
LOCALE = PACKAGE / "locale"
LANGUAGES = ("zh_Hans", "en")
# The language every marked string must have; English is the msgid itself.
REQUIRED = "zh_Hans"
PLAIN = frozenset({"_", "gettext", "gettext_lazy", "gettext_noop", "translatable"})
WITH_CONTEXT = frozenset({"pgettext", "pgettext_lazy"})
HEADER = {
    "zh_Hans": "zh-Hans",
    "en": "en",
}

Key = tuple[str | None, str]  # (context, msgid)


@dataclass
class Entry:
    context: str | None
    msgid: str
    msgstr: str = ""
    places: list[str] = field(default_factory=list)

    @property
    def key(self) -> Key:
        return (self.context, self.msgid)


def _called_name(node: ast.Call) -> str | None:
    if isinstance(node.func, ast.Name):
        return node.func.id
    if isinstance(node.func, ast.Attribute):
        return node.func.attr
    return None


def _text(node: ast.expr) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def collect(root: Path = PACKAGE) -> dict[Key, list[str]]:
    """Every marked string of the package with the places it is marked."""
    found: dict[Key, list[str]] = {}
    for path in sorted(root.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = _called_name(node)
            key: Key | None = None
            if name in PLAIN and node.args:
                message = _text(node.args[0])
                key = None if message is None else (None, message)
            elif name in WITH_CONTEXT and len(node.args) >= 2:
                context, message = _text(node.args[0]), _text(node.args[1])
                key = None if context is None or message is None else (context, message)
            if key is not None:
                shown = path.relative_to(REPO) if path.is_relative_to(REPO) else path
                where = f"{shown.as_posix()}:{node.lineno}"
                found.setdefault(key, []).append(where)
    for path in sorted(root.rglob("templates/**/*.html")):
        shown = path.relative_to(REPO) if path.is_relative_to(REPO) else path
        for key in template_messages(path.read_text(encoding="utf-8"), shown.as_posix()):
            found.setdefault(key, []).append(shown.as_posix())
    return found


_LITERAL = r"u?('(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\")"
_TEMPLATE_CALLS = re.compile(
    rf"\b(?:(?P<plain>gettext)\({_LITERAL}\)|(?P<ctx>pgettext)\({_LITERAL}, *{_LITERAL}\)"
    r"|(?P<plural>ngettext)\()"
)


def template_messages(source: str, where: str) -> list[Key]:
    """The strings a template marks (``{% translate %}``, ``{% blocktranslate %}``), read with
    Django's own template lexer: ``templatize`` rewrites them as the gettext calls
    ``makemessages`` hands to xgettext. Plural forms are refused: Chinese has none, and a
    page says "broken promises: 3" instead."""
    from django.utils.translation.template import templatize

    keys: list[Key] = []
    for match in _TEMPLATE_CALLS.finditer(templatize(source)):
        if match.group("plural"):
            raise SystemExit(f"{where}: a plural form (blocktranslate count) is not used")
        if match.group("plain"):
            keys.append((None, ast.literal_eval(match.group(2))))
        else:
            keys.append((ast.literal_eval(match.group(4)), ast.literal_eval(match.group(5))))
    return keys


# -- .po files ------------------------------------------------------------------------------


def _unquote(text: str) -> str:
    return ast.literal_eval(text)


def _quote(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def read_po(path: Path) -> dict[Key, Entry]:
    """The entries of a catalogue (the header entry left out)."""
    entries: dict[Key, Entry] = {}
    if not path.exists():
        return entries
    fields: dict[str, str] = {}
    last: str | None = None

    def flush() -> None:
        if fields.get("msgid"):
            entry = Entry(fields.get("msgctxt"), fields["msgid"], fields.get("msgstr", ""))
            entries[entry.key] = entry
        fields.clear()

    for raw in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        line = raw.strip()
        if not line:
            flush()
            last = None
        elif line.startswith("#"):
            continue
        elif line.startswith('"') and last is not None:
            fields[last] += _unquote(line)
        else:
            keyword, _, rest = line.partition(" ")
            if keyword in fields and keyword in ("msgctxt", "msgid"):
                flush()
            fields[keyword] = _unquote(rest)
            last = keyword
    return entries


def write_po(path: Path, language: str, entries: list[Entry]) -> None:
    lines = [
        "# npldesk's own words. Kept by scripts/messages.py; translate the msgstr lines.",
        'msgid ""',
        'msgstr ""',
        '"Content-Type: text/plain; charset=UTF-8\\n"',
        f'"Language: {HEADER[language]}\\n"',
        '"Plural-Forms: nplurals=1; plural=0;\\n"' if language == "zh_Hans" else "",
        "",
    ]
    lines = [line for line in lines if line != ""] + [""]
    for entry in entries:
        lines.extend(f"#: {place}" for place in entry.places)
        if "{" in entry.msgid:
            lines.append("#, python-brace-format")
        if entry.context is not None:
            lines.append(f"msgctxt {_quote(entry.context)}")
        lines.append(f"msgid {_quote(entry.msgid)}")
        lines.append(f"msgstr {_quote(entry.msgstr)}")
        lines.append("")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines), encoding="utf-8")


# -- .mo files ------------------------------------------------------------------------------


def mo_bytes(language: str, entries: list[Entry]) -> bytes:
    """A GNU .mo catalogue of the translated entries (the layout msgfmt writes)."""
    header = f"Content-Type: text/plain; charset=UTF-8\nLanguage: {HEADER[language]}\n"
    if language == "zh_Hans":
        header += "Plural-Forms: nplurals=1; plural=0;\n"
    pairs = {"": header}
    for entry in entries:
        if entry.msgstr:
            key = entry.msgid if entry.context is None else f"{entry.context}\x04{entry.msgid}"
            pairs[key] = entry.msgstr
    keys = sorted(pairs)
    ids = b""
    strs = b""
    offsets = []
    for key in keys:
        encoded_id, encoded_str = key.encode("utf-8"), pairs[key].encode("utf-8")
        offsets.append((len(ids), len(encoded_id), len(strs), len(encoded_str)))
        ids += encoded_id + b"\0"
        strs += encoded_str + b"\0"
    count = len(keys)
    ids_start = 7 * 4 + 16 * count
    strs_start = ids_start + len(ids)
    key_table: list[int] = []
    value_table: list[int] = []
    for id_offset, id_length, str_offset, str_length in offsets:
        key_table += [id_length, ids_start + id_offset]
        value_table += [str_length, strs_start + str_offset]
    return (
        struct.pack("Iiiiiii", 0x950412DE, 0, count, 7 * 4, 7 * 4 + 8 * count, 0, 0)
        + struct.pack(f"{len(key_table)}i", *key_table)
        + struct.pack(f"{len(value_table)}i", *value_table)
        + ids
        + strs
    )


def po_path(language: str) -> Path:
    return LOCALE / language / "LC_MESSAGES" / "django.po"


def mo_path(language: str) -> Path:
    return LOCALE / language / "LC_MESSAGES" / "django.mo"


def catalogue(language: str, marked: dict[Key, list[str]]) -> list[Entry]:
    """The marked strings with the translations the language's catalogue already has."""
    known = read_po(po_path(language))
    entries = []
    for key in sorted(marked, key=lambda k: (k[1], k[0] or "")):
        old = known.get(key)
        entries.append(Entry(key[0], key[1], old.msgstr if old else "", marked[key]))
    return entries


_PLACEHOLDER = re.compile(r"\{[^{}]*\}")


def problems(marked: dict[Key, list[str]]) -> list[str]:
    """Marked strings without Chinese, translations that lose or add a placeholder, and
    compiled catalogues that differ from their sources."""
    found = []
    for language in LANGUAGES:
        entries = catalogue(language, marked)
        for entry in entries:
            where = entry.places[0]
            if language == REQUIRED and not entry.msgstr:
                found.append(f"{where}: no Chinese for {entry.msgid!r}")
            if entry.msgstr and sorted(_PLACEHOLDER.findall(entry.msgstr)) != sorted(
                _PLACEHOLDER.findall(entry.msgid)
            ):
                found.append(f"{where}: {language} placeholders differ in {entry.msgid!r}")
        compiled = mo_path(language)
        if not compiled.exists() or compiled.read_bytes() != mo_bytes(language, entries):
            found.append(f"{compiled.relative_to(REPO)}: stale, run scripts/messages.py update")
    return found


def update() -> None:
    marked = collect()
    for language in LANGUAGES:
        entries = catalogue(language, marked)
        write_po(po_path(language), language, entries)
        mo_path(language).write_bytes(mo_bytes(language, entries))
    print(f"{len(marked)} marked strings in {', '.join(LANGUAGES)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("action", choices=("update", "check"))
    args = parser.parse_args(argv)
    if args.action == "update":
        update()
        return 0
    found = problems(collect())
    for line in found:
        print(line)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
