"""Benchmark: one officer's worklist (``selectors.worklist``) among 200,000 open cases.

Not a test. Needs a PostgreSQL server; the script creates a scratch database, migrates it,
fills it, measures, and drops it:

    python benchmarks/casework_worklist.py [--cases 200000] [--officers 400] [--calls 200]
        [--server postgres://postgres@127.0.0.1:5432] [--database npldesk_bench_worklist]

What it measures. 200,000 open cases over 32 sub-branches, owned by ``--officers`` officers
(about 500 cases each), one in four also in one of 20 clearing teams, with the worklist's
signals spread out (broken promises, instalments and hearings due, legal alerts, deadlines,
last contact). The data are written with ``bulk_create`` (test data, not through the services:
only the read is measured), then ``ANALYZE``. Then ``list(worklist(officer, today=…))``, the
first 50 rows with their household, unit and team, is called ``--calls`` times for officers
picked in turn (one of them a team member); the median and the 95th percentile of the wall
time are reported, with the query plan of one call.

Target (``docs/benchmarks.md``, "Casework"): median under 50 ms.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from common import scratch_casework_database  # noqa: E402 (after the path is set)

TODAY = date(2020, 1, 15)


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def fill(cases: int, officers: int) -> list[Any]:
    """Units, officers, teams, households and open cases; returns the officers."""
    from django.contrib.auth import get_user_model

    from npldesk.casework.models import Case, Household, Person, Team, Unit

    rng = random.Random(20200115)
    city = Unit.objects.create(code="BR", name="BR", level="city", path="/BR/")
    subs = []
    for c in range(1, 9):
        county = Unit.objects.create(
            code=f"BR{c:02d}", name="county", parent=city, level="county", path=f"/BR/BR{c:02d}/"
        )
        for s in range(1, 5):
            code = f"BR{c:02d}{s:02d}"
            subs.append(
                Unit.objects.create(
                    code=code, name=code, parent=county, level="sub", path=f"{county.path}{code}/"
                )
            )
    users = get_user_model().objects.bulk_create(
        [get_user_model()(username=f"officer{n:04d}") for n in range(officers)]
    )
    people = Person.objects.bulk_create(
        [Person(user=user, name=user.username, roles=["officer"]) for user in users]
    )
    for n, person in enumerate(people):
        person.units.add(subs[n % len(subs)])
    teams = []
    for t in range(20):
        team = Team.objects.create(
            code=f"T{t:02d}",
            name=f"Team {t}",
            kind="clearing_team",
            leader=people[t],
            active_from=date(2019, 1, 1),
        )
        team.members.set(people[20 + t * 5 : 25 + t * 5])
        teams.append(team)
    say(f"{len(people)} officers, {len(teams)} teams")
    batch = 10_000
    for start in range(0, cases, batch):
        count = min(batch, cases - start)
        households = Household.objects.bulk_create(
            [
                Household(
                    borrower_id=f"H{n:08d}",
                    name=f"Household {n}",
                    unit=subs[n % len(subs)],
                )
                for n in range(start, start + count)
            ]
        )
        rows = []
        for offset, household in enumerate(households):
            n = start + offset
            owner = people[n % len(people)]
            day = TODAY + timedelta(days=rng.randint(-60, 120))
            rows.append(
                Case(
                    number=f"{household.borrower_id}-1",
                    household=household,
                    kind="npl",
                    unit=household.unit,
                    state=rng.choice(["opened", "investigating", "in_progress", "escalated"]),
                    deadline=TODAY + timedelta(days=rng.randint(-30, 900)),
                    owner=owner,
                    team=teams[(n // 4) % len(teams)] if n % 4 == 0 else None,
                    opened_on=date(2019, 12, 31),
                    npl_balance=Decimal(rng.randint(10_000, 500_000)),
                    balance=Decimal(500_000),
                    broken_promises=1 if rng.random() < 0.05 else 0,
                    next_promise_due=day if rng.random() < 0.2 else None,
                    next_instalment_due=day if rng.random() < 0.1 else None,
                    plan_breached=rng.random() < 0.02,
                    next_hearing_on=day if rng.random() < 0.05 else None,
                    legal_alert_on=day if rng.random() < 0.05 else None,
                    last_contact_on=TODAY - timedelta(days=rng.randint(0, 90))
                    if rng.random() < 0.8
                    else None,
                )
            )
        Case.objects.bulk_create(rows)
        say(f"{start + count:,} cases")
    return people


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=200_000)
    parser.add_argument("--officers", type=int, default=400)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--server", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--database", default="npldesk_bench_worklist")
    parser.add_argument("--keep", action="store_true", help="Do not drop the database afterwards")
    args = parser.parse_args()

    with scratch_casework_database(args.server, args.database, keep=args.keep):
        from django.db import connection

        from npldesk.casework.selectors import worklist

        started = time.perf_counter()
        people = fill(args.cases, args.officers)
        say(f"filled in {time.perf_counter() - started:.0f} s")
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        member = people[20]  # owns cases and is a member of team T00
        chosen = [member if n % 10 == 0 else people[(n * 37) % len(people)] for n in range(2000)]
        for person in chosen[:5]:  # warm the connection and caches
            list(worklist(person, today=TODAY))
        times = []
        sizes = []
        for person in chosen[: args.calls]:
            started = time.perf_counter()
            rows = list(worklist(person, today=TODAY))
            times.append((time.perf_counter() - started) * 1000)
            sizes.append(len(rows))
        query = worklist(member, today=TODAY).query
        sql, params = query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN ANALYZE {sql}", params)
            plan = [row[0] for row in cursor.fetchall()]
        times.sort()
        result = {
            "cases": args.cases,
            "officers": args.officers,
            "calls": len(times),
            "rows_per_call": statistics.median(sizes),
            "median_ms": round(statistics.median(times), 2),
            "p95_ms": round(times[int(len(times) * 0.95) - 1], 2),
            "max_ms": round(times[-1], 2),
            "plan_team_member": plan,
        }
        say(f"median {result['median_ms']} ms, p95 {result['p95_ms']} ms")
        print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
