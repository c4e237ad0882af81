"""Mappings cannot reach outside their data.

A mapping's ``sql:`` expressions run inside the DuckDB connection that scans the files, so a
mapping could otherwise read any file the server can (``read_text('/etc/shadow')`` into
borrower names), write files, attach databases or load extensions. Two walls keep it in:

- ``check_expression``: when a mapping is read, each ``sql:`` must parse as one scalar
  expression over the row's columns, with no subquery (the only way an expression reaches a
  table function such as ``read_csv``), so that ``ATTACH``, ``COPY``, ``INSTALL`` or a second
  statement are refused before anything runs;
- ``sandboxed_connection``: the import's connection has file access switched off except for
  the files it was given and its own folders, no extension may be installed or loaded, and
  the configuration is locked so that no statement can switch it back on.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import duckdb

from npldesk.core.errors import UsageError
from npldesk.core.i18n import translatable


def _sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _sql_list(values: Iterable[str]) -> str:
    return "[" + ", ".join(_sql_string(v) for v in values) + "]"


def sandboxed_connection(
    *,
    files: Iterable[Path],
    folders: Iterable[Path],
    settings: dict[str, str] | None = None,
) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection that can read ``files`` and read and write inside ``folders``, and
    nothing else: no other file, no extension, no network; its configuration is locked.

    ``settings``: options set before the lock (memory limit, threads, temp_directory — which
    must lie inside ``folders``)."""
    con = duckdb.connect(config={"preserve_insertion_order": True})
    try:
        con.execute("SET enable_progress_bar = false")
        con.execute("SET autoinstall_known_extensions = false")
        con.execute("SET autoload_known_extensions = false")
        for name, value in (settings or {}).items():
            con.execute(f"SET {name} = {value}")
        # Each path as given (made absolute) and with its links followed: either may be the
        # one a read names.
        paths = sorted({form for f in files for form in _forms(Path(f))})
        # A trailing separator: "/store/tape/" must not also allow "/store/tape-old".
        folder_prefixes = sorted({form + "/" for d in folders for form in _forms(Path(d))})
        if paths:
            con.execute(f"SET allowed_paths = {_sql_list(paths)}")
        if folder_prefixes:
            con.execute(f"SET allowed_directories = {_sql_list(folder_prefixes)}")
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")
    except BaseException:
        con.close()
        raise
    return con


def _forms(path: Path) -> set[str]:
    return {os.path.abspath(path), str(path.resolve())}


def _nodes(tree: Any) -> Iterable[dict[str, Any]]:
    """Every object in a parsed statement's JSON tree."""
    if isinstance(tree, dict):
        yield tree
        for value in tree.values():
            yield from _nodes(value)
    elif isinstance(tree, list):
        for value in tree:
            yield from _nodes(value)


EXPRESSION_RULE = (
    "a mapping's `sql:` is one expression over the row's columns (src.\"<column>\", "
    '<join name>."<column>"); it may not hold a subquery, a table function (read_csv, '
    "read_text, …), a second statement, or ATTACH, COPY, INSTALL, LOAD"
)


def check_expression(expression: str, where: str) -> None:
    """Refuse a ``sql:`` that is not one scalar expression (see the module's docstring)."""
    statement = f"SELECT CAST(({expression}) AS VARCHAR)"
    con = duckdb.connect()
    try:
        parsed = json.loads(
            con.execute("SELECT json_serialize_sql(?)", [statement]).fetchone()[0]  # type: ignore[index]
        )
    finally:
        con.close()
    reason = None
    if parsed.get("error"):
        reason = str(parsed.get("error_message") or "it does not parse")
    else:
        statements = parsed.get("statements") or []
        node = statements[0].get("node", {}) if len(statements) == 1 else {}
        if (
            len(statements) != 1
            or node.get("type") != "SELECT_NODE"
            or (node.get("from_table") or {}).get("type") != "EMPTY"
            or len(node.get("select_list") or []) != 1
            or node.get("where_clause")
            or node.get("group_expressions")
            or node.get("having")
            or node.get("modifiers")
        ):
            reason = "it is more than one expression"
        elif any(n.get("class") == "SUBQUERY" for n in _nodes(node)):
            reason = "it holds a subquery"
    if reason is not None:
        raise UsageError(
            translatable(
                "{where}: {EXPRESSION_RULE}; {reason}: {expression!r}",
                where=where,
                EXPRESSION_RULE=EXPRESSION_RULE,
                reason=reason,
                expression=expression,
            )
        )
