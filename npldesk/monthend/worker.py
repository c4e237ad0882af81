"""``npldesk worker``: runs the queued jobs (``casework.models.Job``) one at a time per kind.

A job kind is a handler from a ``JobContext`` to the job's result (JSON), registered with
``register_job_kind``: ``tape_import`` (a month file uploaded from the browser, imported through
the tape importer; its problems are the failed job's result, and nothing is imported),
``month_end`` (``npldesk month-end``) and ``judge`` (the daily judgement). The worker acts as the
system actor. While a job runs, a heartbeat thread renews its lease with its latest progress;
a worker killed halfway leaves a lease that runs out, and the next worker claims the job again
(a month-end run resumes from its first step not done).
"""

from __future__ import annotations

import os
import re
import socket
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from django.db import DatabaseError, connection
from django.db.models import Q
from django.utils import timezone

from npldesk.casework import services
from npldesk.casework.choices import JobKind, JobState
from npldesk.casework.errors import Conflict
from npldesk.casework.models import Job, Person
from npldesk.casework.services.jobs import claimable
from npldesk.core.errors import NpldeskError, UsageError
from npldesk.core.i18n import as_data, translatable
from npldesk.core.months import month_label
from npldesk.core.system import make_owner_only
from npldesk.home import Home
from npldesk.reports.labels import choice_label


@dataclass
class JobContext:
    """What a handler is given: the home, its job, who acts, and where to say how far it is."""

    home: Home
    job: Job
    actor: Person
    progress: Callable[[str, float | None], None]


class JobFailed(NpldeskError):
    """A job that failed with a result worth keeping (an import's problems)."""

    def __init__(self, message: str, *, result: dict[str, Any]) -> None:
        super().__init__(message)
        self.result = result


Handler = Callable[[JobContext], dict[str, Any]]
HANDLERS: dict[str, Handler] = {}


def register_job_kind(kind: str, handler: Handler) -> None:
    """Let the worker run jobs of ``kind`` with ``handler``."""
    HANDLERS[kind] = handler


# -- uploads -----------------------------------------------------------------------------

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def keep_upload(home: Home, name: str, chunks: Iterable[bytes]) -> Path:
    """Keep an uploaded file under ``<home>/uploads/<id>/`` (owner-only) for a job to read."""
    folder = home.path / "uploads" / uuid.uuid4().hex
    folder.mkdir(parents=True, mode=0o700)
    make_owner_only(folder.parent)
    make_owner_only(folder)
    safe = _UNSAFE.sub("_", Path(name).name).strip("._") or "upload"
    path = folder / safe
    with path.open("wb") as out:
        for chunk in chunks:
            out.write(chunk)
    make_owner_only(path)
    return path


def enqueue_tape_import(
    home: Home,
    *,
    actor: Person,
    name: str,
    chunks: Iterable[bytes],
    as_of: date | None = None,
    mapping: str | None = None,
    replace: bool = False,
) -> Job:
    """Keep an uploaded month file and queue its import (the web's tape upload, the API's)."""
    path = keep_upload(home, name, chunks)
    return services.job_enqueue(
        actor=actor,
        kind=JobKind.TAPE_IMPORT,
        parameters={
            "file": str(path.relative_to(home.path)),
            "name": name,
            "as_of": as_of.isoformat() if as_of else None,
            "mapping": mapping,
            "replace": replace,
        },
    )


# -- the kinds ---------------------------------------------------------------------------


def tape_import(context: JobContext) -> dict[str, Any]:
    """Import the uploaded file; on error, the problems (nothing imported)."""
    from npldesk.tape.importer import ImportOptions, import_files
    from npldesk.tape.mapping import load_mapping
    from npldesk.tape.store import Store

    home, parameters = context.home, context.job.parameters
    path = home.path / str(parameters["file"])
    furthest: list[float] = [0.0]

    def reached(message: str) -> float | None:
        # The bar never goes back (a file read again after its encoding was found).
        stage = import_stage(message)
        if stage is not None:
            furthest[0] = max(furthest[0], stage)
        return furthest[0] or None

    try:
        options = ImportOptions(
            mapping=load_mapping(parameters["mapping"]) if parameters.get("mapping") else None,
            as_of=_month(parameters.get("as_of")),
            replace=bool(parameters.get("replace")),
            user=context.job.created_by.user.get_username(),
            max_problems=home.max_problems,
            unexplained_exits_limit=home.unexplained_exits_limit,
        )
        result = import_files(
            Store(home.store_path),
            [path],
            options,
            progress=lambda message: context.progress(message, reached(message)),
        )
    except NpldeskError as exc:
        raise JobFailed(
            str(exc.message),
            result={
                "problems": [
                    {**p.as_dict(), "message_data": as_data(p.message)} for p in exc.problems
                ],
                "problem_total": exc.total,
            },
        ) from exc
    return {
        "import_id": result.import_id,
        "snapshots": [
            {
                "as_of": s.as_of.isoformat(),
                "rows": s.rows,
                "loans_on_book": s.loans_on_book,
                "balance": str(s.balance),
                "action": "replaced" if s.replaced else "imported",
            }
            for s in result.snapshots
        ],
        "warnings": [w.as_dict() for w in result.warnings],
        "warning_total": result.warning_total,
    }


# How far an import is when the importer says it begins a stage (the progress bar's fraction):
# reading the file, converting and checking its rows, finding the rows that break a rule,
# writing the months, committing.
IMPORT_STAGES = (
    ("reading", 0.1),
    ("converting", 0.3),
    ("finding", 0.5),
    ("writing", 0.7),
    ("committing", 0.9),
)


def import_stage(message: str) -> float | None:
    """The fraction of an import done when the importer says ``message`` (``None``: unknown)."""
    for prefix, fraction in IMPORT_STAGES:
        if message.startswith(prefix):
            return fraction
    return None


def _month(text: Any) -> date | None:
    return date.fromisoformat(str(text)) if text else None


def month_end(context: JobContext) -> dict[str, Any]:
    """``npldesk month-end`` for the job's month (resumed where a killed attempt stopped)."""
    from npldesk.monthend.run import run_month_end

    parameters = context.job.parameters
    as_of = date.fromisoformat(str(parameters["as_of"]))
    today = _month(parameters.get("today")) or timezone.localdate()
    result = run_month_end(
        context.home,
        as_of,
        actor=context.actor,
        today=today,
        early_warning=bool(parameters.get("early_warning", False)),
        progress=lambda message: context.progress(message, None),
    )
    return {"run": month_label(as_of), "ran": result.ran, "summary": result.run.summary()}


def judge(context: JobContext) -> dict[str, Any]:
    """The daily judgement (``npldesk cases judge``) as of the job's day."""
    today = _month(context.job.parameters.get("today")) or timezone.localdate()
    return {
        "today": today.isoformat(),
        "changed": services.cases_judge(actor=context.actor, today=today),
    }


register_job_kind(JobKind.TAPE_IMPORT, tape_import)
register_job_kind(JobKind.MONTH_END, month_end)
register_job_kind(JobKind.JUDGE, judge)


# -- running -----------------------------------------------------------------------------


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _dead_here(worker: str) -> bool:
    """Whether ``worker`` ran on this machine as a process that no longer exists (killed):
    its job need not wait for its lease to run out."""
    host, _, pid = worker.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


@dataclass
class _Beat:
    """The latest progress a job reported, written by the heartbeat with the lease."""

    text: str = ""
    fraction: float | None = None
    stop: threading.Event = field(default_factory=threading.Event)


def _heartbeat(beat: _Beat, job: Job, actor: Person, worker: str, every: float) -> None:
    try:
        while not beat.stop.wait(every):
            try:
                services.job_progress(
                    actor=actor, job=job, worker=worker, text=beat.text, fraction=beat.fraction
                )
            except Conflict:
                return
            except DatabaseError:
                # The database busy (SQLite: the job's own step holds the write lock): the
                # next beat tries again; the lease is long enough for a few to be missed.
                continue
    finally:
        connection.close()


def run_next(
    home: Home,
    *,
    actor: Person,
    worker: str,
    kinds: Iterable[str] | None = None,
    heartbeat: float | None = 20.0,
    now: datetime | None = None,
) -> Job | None:
    """Claim the oldest claimable job (of ``kinds``) and run it to its end; ``None`` when there
    is none. ``heartbeat``: seconds between lease renewals from a thread of its own (``None``:
    progress is written as it comes, from this thread)."""
    moment = now or timezone.now()
    orphans = [
        name
        for name in Job.objects.filter(state=JobState.RUNNING).values_list("worker", flat=True)
        if _dead_here(name)
    ]
    found = claimable(moment) | Q(state=JobState.RUNNING, worker__in=orphans)
    candidates = Job.objects.filter(found).order_by("created_at", "id")
    if kinds is not None:
        candidates = candidates.filter(kind__in=list(kinds))
    for candidate in candidates:
        dead = candidate.worker if candidate.worker in orphans else None
        try:
            job = services.job_claim(
                actor=actor, job=candidate, worker=worker, now=moment, dead_worker=dead
            )
        except Conflict:
            continue
        _run(home, job, actor=actor, worker=worker, heartbeat=heartbeat)
        job.refresh_from_db()
        return job
    return None


def _run(home: Home, job: Job, *, actor: Person, worker: str, heartbeat: float | None) -> None:
    beat = _Beat()
    thread: threading.Thread | None = None

    def progress(text: str, fraction: float | None) -> None:
        beat.text, beat.fraction = text, fraction
        if heartbeat is None:
            services.job_progress(actor=actor, job=job, worker=worker, text=text, fraction=fraction)

    if heartbeat is not None:
        thread = threading.Thread(
            target=_heartbeat, args=(beat, job, actor, worker, heartbeat), daemon=True
        )
        thread.start()
    handler = HANDLERS.get(job.kind)
    try:
        if handler is None:
            raise UsageError(
                translatable("this worker runs no job of kind {kind!r}", kind=job.kind)
            )
        result = handler(JobContext(home=home, job=job, actor=actor, progress=progress))
    except JobFailed as exc:
        _stop(beat, thread)
        services.job_finish(
            actor=actor, job=job, worker=worker, result=exc.result, error=str(exc.message)
        )
        return
    except Exception as exc:
        _stop(beat, thread)
        message = (
            str(exc.message) if isinstance(exc, NpldeskError) else f"{type(exc).__name__}: {exc}"
        )
        services.job_finish(actor=actor, job=job, worker=worker, error=message)
        return
    _stop(beat, thread)
    services.job_finish(actor=actor, job=job, worker=worker, result=result)


def _stop(beat: _Beat, thread: threading.Thread | None) -> None:
    beat.stop.set()
    if thread is not None:
        thread.join()


# -- the schedule ------------------------------------------------------------------------

DEFAULT_JUDGE_AT = "02:00"


@dataclass(frozen=True)
class Schedule:
    """``[schedule]`` of ``npldesk.toml``: ``judge_at = "02:00"`` (the daily judgement; ``""``
    for none) and ``month_end_on_import = true`` (a month-end run when a new month is
    imported)."""

    judge_at: tuple[int, int] | None = (2, 0)
    month_end_on_import: bool = True

    @classmethod
    def of(cls, home: Home) -> Schedule:
        section = home.config.get("schedule", {})
        raw = str(section.get("judge_at", DEFAULT_JUDGE_AT)).strip()
        judge_at: tuple[int, int] | None = None
        if raw:
            match = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", raw)
            if match is None:
                raise UsageError(
                    translatable(
                        "{config_file}: [schedule] judge_at = {raw!r} is not a time as HH:MM",
                        config_file=home.config_file,
                        raw=raw,
                    )
                )
            judge_at = (int(match.group(1)), int(match.group(2)))
        on_import = section.get("month_end_on_import", True)
        if not isinstance(on_import, bool):
            raise UsageError(
                translatable(
                    "{config_file}: [schedule] month_end_on_import must be true or false",
                    config_file=home.config_file,
                )
            )
        return cls(judge_at=judge_at, month_end_on_import=on_import)


def schedule_jobs(home: Home, schedule: Schedule, *, actor: Person, now: datetime) -> list[Job]:
    """Queue what the schedule says is due at ``now``: the day's judgement once its time has
    come (once a day), a month-end run of the latest imported month when it has none."""
    from npldesk.casework.models import Run
    from npldesk.tape.store import Store

    queued: list[Job] = []
    local = timezone.localtime(now)
    if schedule.judge_at is not None and (local.hour, local.minute) >= schedule.judge_at:
        today = local.date().isoformat()
        if not Job.objects.filter(kind=JobKind.JUDGE, parameters__today=today).exists():
            queued.append(
                services.job_enqueue(actor=actor, kind=JobKind.JUDGE, parameters={"today": today})
            )
    if schedule.month_end_on_import:
        months = Store(home.store_path).months()
        if months:
            latest = months[-1]
            has_run = Run.objects.filter(as_of=latest).exists()
            has_job = Job.objects.filter(
                kind=JobKind.MONTH_END, parameters__as_of=latest.isoformat()
            ).exists()
            if not has_run and not has_job:
                queued.append(
                    services.job_enqueue(
                        actor=actor,
                        kind=JobKind.MONTH_END,
                        parameters={"as_of": latest.isoformat(), "today": local.date().isoformat()},
                    )
                )
    return queued


def work(
    home: Home,
    *,
    actor: Person,
    once: bool = False,
    poll: float = 5.0,
    stop: threading.Event | None = None,
    say: Callable[[str], None] | None = None,
) -> int:
    """Run jobs until stopped (``once``: until none is queued, without the schedule's waits).
    Returns how many jobs ran."""
    schedule = Schedule.of(home)
    name = worker_name()
    stopping = stop or threading.Event()
    tell = say or (lambda _message: None)
    ran = 0
    while not stopping.is_set():
        for queued in schedule_jobs(home, schedule, actor=actor, now=timezone.now()):
            tell(
                translatable(
                    "scheduled job {job} {kind} {parameters}",
                    job=queued.pk,
                    kind=choice_label(JobKind, queued.kind),
                    parameters=str(queued.parameters),
                )
            )
        job = run_next(home, actor=actor, worker=name)
        if job is not None:
            ran += 1
            tell(
                translatable(
                    "job {job} {kind}: {state} ({error})",
                    job=job.pk,
                    kind=choice_label(JobKind, job.kind),
                    state=choice_label(JobState, job.state),
                    error=job.error,
                )
                if job.error
                else translatable(
                    "job {job} {kind}: {state}",
                    job=job.pk,
                    kind=choice_label(JobKind, job.kind),
                    state=choice_label(JobState, job.state),
                )
            )
            continue
        if once:
            break
        stopping.wait(poll)
    return ran
