"""Seed the load benchmarks' home: the demo's branch on PostgreSQL, scaled to 200,000 open
cases and 400 officers (``docs/benchmarks.md``, "Web and API under load").

Not a test. Needs a PostgreSQL server. Steps:

1. ``npldesk demo --no-serve`` builds the demo home (its synthetic branch, tape, figures,
   casework and demo people) with its casework database on PostgreSQL (``--database``, dropped
   and made again), and the home's ``npldesk.toml`` is pointed at that database;
2. the month-end run of its last month (``npldesk month-end``): the plan of record kept, the
   reminders delivered, as in a bank's home during the month;
3. ``--officers`` officers are added, spread over the demo's sub-branches (one password hash
   computed once and stored for all), and 20 clearing teams;
4. households, cases and their loans up to ``--cases`` open cases are written in batches by
   the bulk writer the month-end sync uses (``casework.sync._bulk_insert``: one
   ``INSERT … SELECT … FROM unnest(…)`` per 20,000 rows), not one service call per case;
5. the load users (the first ``--users`` officers, also risk analysts so they have a dashboard)
   get an API token each; their names, the password, their case numbers and their tokens are
   written to ``<home>/load-users.json`` (owner-only), which the locust files read.

    python benchmarks/load_seed.py [--home DIR] [--cases 200000] [--officers 400] [--users 50]
        [--server postgres://postgres@127.0.0.1:5432] [--database npldesk_load] [--loans 3000]

Prints a JSON summary on stdout (timings included), progress on stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from common import psql  # noqa: E402 (after the path is set)

PASSWORD = "load-test-password-1"
USERS_FILE = "load-users.json"


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def build_demo(home: Path, url: str, loans: int, months: int) -> None:
    """The demo home, its casework on ``url``; the home's configuration names the database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NPLDESK_", "DJANGO_"))}
    env |= {"PYTHONPATH": str(REPO), "NPLDESK_DATABASE_URL": url, "NPLDESK_LANGUAGE": "en"}
    command = [sys.executable, "-c", "from npldesk.cli import main; main()", "demo"]
    command += ["--home", str(home), "--no-serve", "--loans", str(loans), "--months", str(months)]
    subprocess.run(command, check=True, env=env, stdout=sys.stderr)
    config = home / "npldesk.toml"
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace('url = ""', f'url = "{url}"', 1), encoding="utf-8")


def month_end(home: Path, url: str) -> str:
    """The month-end run of the demo's last month, as a bank's home has it before its people
    start the month's work: cases judged, the plan of record kept, reminders delivered."""
    from npldesk.tape.store import Store

    month = Store(home / "store").months()[-1].strftime("%Y-%m")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NPLDESK_", "DJANGO_"))}
    env |= {"PYTHONPATH": str(REPO), "NPLDESK_DATABASE_URL": url, "NPLDESK_LANGUAGE": "en"}
    command = [sys.executable, "-c", "from npldesk.cli import main; main()", "month-end"]
    command += ["--as-of", month, "--home", str(home)]
    subprocess.run(command, check=True, env=env, stdout=sys.stderr)
    return month


def seed(officers: int, cases: int, users: int, today: date) -> dict[str, Any]:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.db import connection, transaction

    from npldesk.casework import services
    from npldesk.casework.models import Case, CaseLoan, Household, Person, Team, Unit
    from npldesk.casework.sync import _bulk_insert

    rng = random.Random(20200115)
    leaves = [
        u for u in Unit.objects.order_by("path") if not Unit.objects.filter(parent=u).exists()
    ]
    say(f"{len(leaves)} sub-branches")
    hashed = make_password(PASSWORD)
    user_model = get_user_model()
    with transaction.atomic():
        made = user_model.objects.bulk_create(
            [user_model(username=f"load{n:04d}", password=hashed) for n in range(officers)]
        )
        people = Person.objects.bulk_create(
            [
                Person(
                    user=user,
                    name=f"Officer {n}",
                    roles=["officer", "risk_analyst"] if n < users else ["officer"],
                )
                for n, user in enumerate(made)
            ]
        )
        links = Person.units.through
        links.objects.bulk_create(
            [
                links(person_id=p.pk, unit_id=leaves[n % len(leaves)].pk)
                for n, p in enumerate(people)
            ]
        )
        teams = []
        for t in range(20):
            team = Team.objects.create(
                code=f"LT{t:02d}",
                name=f"Clearing team {t}",
                kind="clearing_team",
                leader=people[t],
                active_from=date(2019, 1, 1),
            )
            team.units.add(leaves[t % len(leaves)])
            team.members.set(people[20 + t * 5 : 25 + t * 5])
            teams.append(team)
    say(f"{len(people)} officers, {len(teams)} teams")
    by_leaf: dict[int, list[Any]] = {}
    for n, p in enumerate(people):
        by_leaf.setdefault(leaves[n % len(leaves)].pk, []).append(p)
    open_now = Case.objects.filter(closed_on__isnull=True).count()
    wanted = max(0, cases - open_now)
    numbers: dict[str, list[str]] = {p.user.username: [] for p in people[:users]}
    batch = 20_000
    for start in range(0, wanted, batch):
        count = min(batch, wanted - start)
        with transaction.atomic():
            households = [
                Household(
                    borrower_id=f"LH{n:08d}",
                    name=f"Household {n}",
                    borrower_type="retail",
                    unit=leaves[n % len(leaves)],
                )
                for n in range(start, start + count)
            ]
            _bulk_insert(households, key="borrower_id")
            rows = []
            for offset, household in enumerate(households):
                n = start + offset
                # The owner is one of the officers of the household's sub-branch, in turn.
                crew = by_leaf[leaves[n % len(leaves)].pk]
                owner = crew[(n // len(leaves)) % len(crew)]
                day = today + timedelta(days=rng.randint(-60, 120))
                rows.append(
                    Case(
                        number=f"LC{n:08d}",
                        household=household,
                        kind="npl",
                        unit=household.unit,
                        state=rng.choice(["opened", "investigating", "in_progress", "escalated"]),
                        deadline=today + timedelta(days=rng.randint(-30, 900)),
                        owner=owner,
                        team=teams[(n // 4) % len(teams)] if n % 4 == 0 else None,
                        opened_on=date(2019, 12, 31),
                        npl_balance=Decimal(rng.randint(10_000, 500_000)),
                        balance=Decimal(500_000),
                        broken_promises=1 if rng.random() < 0.05 else 0,
                        next_promise_due=day if rng.random() < 0.2 else None,
                        plan_breached=rng.random() < 0.02,
                        last_contact_on=today - timedelta(days=rng.randint(0, 90)),
                    )
                )
                if owner.user.username in numbers and len(numbers[owner.user.username]) < 50:
                    numbers[owner.user.username].append(f"LC{n:08d}")
            _bulk_insert(rows, key="number")
            _bulk_insert(
                [
                    CaseLoan(
                        case=case,
                        loan_id=f"LL{case.number[2:]}",
                        product="personal_business",
                        org_unit=case.unit.code,
                        principal_balance=case.npl_balance,
                        days_past_due=120,
                        loan_class="substandard",
                        is_npl=True,
                        as_of=date(2019, 12, 31),
                        owed=case.npl_balance,
                        owed_as_of=date(2019, 12, 31),
                    )
                    for case in rows
                ]
            )
        say(f"{start + count:,} cases")
    with connection.cursor() as cursor:
        # What autovacuum does after a bulk insert, done at once: statistics for the planner and
        # the visibility map that lets a count read an index alone (measuring starts from the
        # database as it is a while after the month-end, not seconds after its writes).
        cursor.execute("VACUUM (ANALYZE)")
    tokens = {}
    for p in people[:users]:
        made_token = services.api_token_create(actor=p, person=p, name="load", days=30)
        tokens[p.user.username] = made_token.secret
    return {
        "users": [
            {
                "username": p.user.username,
                "password": PASSWORD,
                "unit": leaves[n % len(leaves)].code,
                "cases": numbers[p.user.username],
                "token": tokens[p.user.username],
            }
            for n, p in enumerate(people[:users])
        ],
        "open_cases": Case.objects.filter(closed_on__isnull=True).count(),
        "officers": Person.objects.filter(roles__contains=["officer"]).count(),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--home",
        type=Path,
        default=Path(os.environ.get("TMPDIR", "/tmp")) / "npldesk-load" / "home",
    )
    parser.add_argument("--cases", type=int, default=200_000)
    parser.add_argument("--officers", type=int, default=400)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--loans", type=int, default=3000, help="The demo tape's loans")
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--server", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--database", default="npldesk_load")
    args = parser.parse_args()

    url = f"{args.server}/{args.database}"
    timings: dict[str, float] = {}
    started = time.perf_counter()
    psql(args.server, f"DROP DATABASE IF EXISTS {args.database}")
    psql(args.server, f"CREATE DATABASE {args.database}")
    if args.home.exists():
        raise SystemExit(f"{args.home} exists: remove it or give another --home")
    args.home.parent.mkdir(parents=True, exist_ok=True)
    build_demo(args.home, url, args.loans, args.months)
    timings["demo_s"] = round(time.perf_counter() - started, 1)
    say(f"demo built in {timings['demo_s']} s")
    started = time.perf_counter()
    month = month_end(args.home, url)
    timings["month_end_s"] = round(time.perf_counter() - started, 1)
    say(f"month-end {month} run in {timings['month_end_s']} s")

    os.environ["NPLDESK_HOME"] = str(args.home)
    os.environ["NPLDESK_DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "npldesk.settings")
    import django

    django.setup()
    started = time.perf_counter()
    result = seed(args.officers, args.cases, args.users, date.today())
    timings["seed_s"] = round(time.perf_counter() - started, 1)
    target = args.home / USERS_FILE
    target.write_text(json.dumps(result["users"], indent=2), encoding="utf-8")
    target.chmod(0o600)
    summary = {
        "home": str(args.home),
        "database": url,
        "open_cases": result["open_cases"],
        "officers": result["officers"],
        "load_users": len(result["users"]),
        **timings,
    }
    say(f"seeded in {timings['seed_s']} s")
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
