"""Where the web's figures come from: the report builders on one analytics session per worker,
through a cache keyed by the snapshots' checksums and the rule set.

A month-end's figures do not change until a snapshot is imported (or replaced) or the rule set
changes, so a dashboard is computed once per month-end and read from the cache afterwards (by
every worker: Django's cache is a file cache under the home). The web never opens a DuckDB
connection of its own: it calls ``Analytics.for_home`` on ``settings.HOME`` and the typed builders
of ``npldesk.reports``; DuckDB runs one thread per worker, and a lock keeps one request at a
time on the worker's connection (a DuckDB connection is not for concurrent use).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar, cast

from django.conf import settings
from django.core.cache import cache

from npldesk.analytics.session import Analytics
from npldesk.core.kept import Kept

T = TypeVar("T")

# DuckDB's threads per web worker: the workers, not one worker's query, share the cores.
WORKER_THREADS = 1
# A cached figure lives until its inputs change (its key names them); this only bounds disk use.
CACHE_SECONDS = 40 * 24 * 3600

_lock = threading.RLock()
_sessions: dict[Path, Analytics] = {}


def session() -> Analytics:
    """The worker's analytics session on the web's home (opened once per worker and home)."""
    home = settings.HOME
    with _lock:
        found = _sessions.get(home.path)
        if found is None:
            found = Analytics.for_home(home, backend="duckdb", threads=WORKER_THREADS)
            _sessions[home.path] = found
        return found


def inputs_key(analytics: Analytics) -> str:
    """What every figure depends on: each snapshot's month and checksum, the organisation file,
    and the rule set with its parameters.

    Worked out again only when the store's manifest file changes: every import or organisation
    update commits a new manifest file in place of the old (a new file, so its inode or its
    modification time differs), and a page asks for several figures."""
    manifest = analytics.store.manifest_path
    try:
        stat = manifest.stat()
    except FileNotFoundError:
        return _inputs_key(analytics)
    signature = (str(manifest), stat.st_ino, stat.st_mtime_ns, stat.st_size, repr(analytics.params))
    with _lock:
        found = _inputs_keys.get(signature)
    if found is None:
        found = _inputs_key(analytics)
        with _lock:
            if len(_inputs_keys) > 64:  # stores and rule sets seen by this worker: a few
                _inputs_keys.clear()
            _inputs_keys[signature] = found
    return found


_inputs_keys: dict[tuple[Any, ...], str] = {}


def _inputs_key(analytics: Analytics) -> str:
    parts = [f"{entry.as_of.isoformat()}:{entry.sha256}" for entry in analytics.store.snapshots()]
    org = analytics.store.org_path()
    if org is not None:
        parts.append(f"org:{hashlib.sha256(org.read_bytes()).hexdigest()}")
    parts.append(f"rules:{analytics.params!r}")
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


def figure(name: str, arguments: tuple[Any, ...], build: Callable[[Analytics], T]) -> T:
    """The result of ``build`` on the worker's session, from the cache when its inputs are
    unchanged. ``name`` and ``arguments`` tell one figure from another."""
    with _lock:
        analytics = session()
        wanted = repr((name, arguments))
        key = (
            "npldesk-figure:"
            + hashlib.sha256(f"{inputs_key(analytics)}|{wanted}".encode()).hexdigest()
        )
        kept = _kept.get(key)
        if kept is not None:
            return cast(T, kept)
        found: T | None = cache.get(key)
        if found is None:
            found = build(analytics)
            cache.set(key, found, CACHE_SECONDS)
        if _immutable(found):
            _kept.put(key, found)
        return found


# The figures a worker keeps in memory besides the file cache: unpickling a unit's quality
# or trend (thousands of Decimals) costs a dashboard more than its queries. Only frozen
# results, which no request can change under another's feet, and none holding a list: a
# loan list's rows can be large, and stay on disk.
_kept: Kept[str, Any] = Kept(256)


def _immutable(found: object) -> bool:
    params = getattr(type(found), "__dataclass_params__", None)
    if params is None or not params.frozen:
        return False
    return not any(isinstance(value, list) for value in vars(found).values())
