"""How long the admin's workflow list takes with 10^4 and 10^6 workflows on PostgreSQL.

    python bench/admin_bench.py                       # 10,000 then 1,000,000 rows, 7 requests per page
    python bench/admin_bench.py --sizes 10000 --repeat 5 --keep

It creates a scratch database (``bench_admin`` on ``BENCH_PG_URL``, default
postgres://postgres@127.0.0.1:5432/postgres), migrates it with the example project's settings,
fills ``dbos_workflow_status`` with ``generate_series`` (90% SUCCESS, 20 names, 5 queues, one
month of creation times; as in life, workers and versions follow each other in time: 10 workers
of 100,000 workflows each, 3 versions), runs VACUUM ANALYZE, then times each
page with Django's test client logged in as a superuser: the median of ``--repeat`` requests after
two warm-ups. It prints a markdown table and drops the database unless ``--keep``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DB_NAME = "bench_admin"
PAGES = [
    ("list, newest first", ""),
    ("status = ERROR (4%)", "?status__exact=ERROR"),
    ("status = SUCCESS (90%)", "?status__exact=SUCCESS"),
    ("name = one of 20", "?name=shop.workflows.checkout_7"),
    ("version = the oldest of 3", "?version=v1"),
    ("executor = the oldest of 10", "?executor=worker-0"),
    ("queue = one of 5", "?queue=queue-3"),
    ("pending for longer than 1 hour", "?pending_for=1h"),
    ("search: id prefix", "?q=wf-00042"),
    ("page 100", "?p=100"),
    ("one workflow's page (5 steps)", "DETAIL"),
]

# A month of workflows, oldest first; row i is created 2.6 s after row i-1. Worker k ran rows
# k*100,000 to (k+1)*100,000 - 1, version v1 the first third of a million, v2 the second, v3 the rest.
FILL_SQL = """
INSERT INTO dbos_workflow_status (
    workflow_id, status, name, queue_name, executor_id, application_version, application_name, inputs, output,
    error, created_at, updated_at, started_at, completed_at, recovery_attempts, priority, owner_epoch, is_debounced
)
SELECT 'wf-' || lpad(i::text, 8, '0'),
       s.status,
       'shop.workflows.checkout_' || (i %% 20),
       CASE WHEN s.status IN ('ENQUEUED', 'DELAYED', 'PENDING') OR i %% 3 = 0 THEN 'queue-' || (i %% 5) END,
       CASE WHEN s.status <> 'ENQUEUED' THEN 'worker-' || (i / 100000) END,
       'v' || (i / 333334 + 1),
       'bench',
       '{"args":[' || i || '],"kwargs":{}}',
       CASE WHEN s.status = 'SUCCESS' THEN '{"ok":true}' END,
       CASE WHEN s.status = 'ERROR' THEN '{"name":"RuntimeError","message":"boom"}' END,
       %(start)s + i::bigint * %(step)s,
       %(start)s + i::bigint * %(step)s + 500,
       CASE WHEN s.status = 'PENDING' THEN %(start)s + i::bigint * %(step)s END,
       CASE WHEN s.status IN ('SUCCESS', 'ERROR', 'CANCELLED') THEN %(start)s + i::bigint * %(step)s + 500 END,
       1, 0, 0, false
FROM generate_series(%(first)s, %(last)s) AS i,
     LATERAL (SELECT CASE
         WHEN i %% 100 < 90 THEN 'SUCCESS' WHEN i %% 100 < 94 THEN 'ERROR' WHEN i %% 100 < 96 THEN 'CANCELLED'
         WHEN i %% 100 < 97 THEN 'PENDING' WHEN i %% 100 < 99 THEN 'ENQUEUED' ELSE 'DELAYED' END AS status) AS s
"""
STEPS_SQL = """
INSERT INTO dbos_step_output (workflow_id, function_id, function_name, output, started_at_epoch_ms,
                              completed_at_epoch_ms)
SELECT 'wf-00000042', n, 'step_' || n, '{"n":' || n || '}', 1000 * n, 1000 * n + 400 FROM generate_series(1, 5) n
ON CONFLICT DO NOTHING
"""


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    return parser.parse_args()


def server_url() -> str:
    return os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/postgres")


def recreate_database() -> None:
    import psycopg

    with psycopg.connect(server_url(), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME}")
        conn.execute(f"CREATE DATABASE {DB_NAME}")


def drop_database() -> None:
    import psycopg
    from django.db import connections

    connections.close_all()
    with psycopg.connect(server_url(), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME}")


def setup_django() -> None:
    """Use the example project's settings on the scratch database."""
    sys.path.insert(0, str(ROOT))
    os.environ["DATABASE_URL"] = server_url().rsplit("/", 1)[0] + f"/{DB_NAME}"
    os.environ["DJANGO_DEBUG"] = "false"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "example_project.settings")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def fill(first: int, last: int) -> float:
    """Insert workflows ``first``..``last``; return the seconds it took (with VACUUM ANALYZE)."""
    from django.db import connection

    began = time.perf_counter()
    start_ms = int(time.time() * 1000) - 30 * 86_400_000
    with connection.cursor() as cursor:
        cursor.execute(FILL_SQL, {"first": first, "last": last, "start": start_ms, "step": 2_600})
        cursor.execute(STEPS_SQL)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE dbos_workflow_status")
        cursor.execute("VACUUM ANALYZE dbos_step_output")
    return time.perf_counter() - began


def client() -> Any:
    from django.contrib.auth.models import User
    from django.test import Client

    user = User.objects.filter(username="bench").first() or User.objects.create_superuser("bench", "b@example.com", "x")
    browser = Client()
    browser.force_login(user)
    return browser


def time_page(browser: Any, path: str, repeat: int) -> tuple[float, int]:
    """The median milliseconds of ``repeat`` GETs of ``path`` (after two warm-ups), and its query count."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(2):
        assert browser.get(path).status_code == 200, path
    timings = []
    for _ in range(repeat):
        began = time.perf_counter()
        response = browser.get(path)
        timings.append((time.perf_counter() - began) * 1000)
        assert response.status_code == 200, path
    with CaptureQueriesContext(connection) as queries:
        browser.get(path)
    return statistics.median(timings), len(queries)


def count_all_ms() -> float:
    """What one ``SELECT COUNT(*)`` of the whole table costs (a plain ModelAdmin runs two per page)."""
    from django.db import connection

    began = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM dbos_workflow_status")
        cursor.fetchone()
    return (time.perf_counter() - began) * 1000


def measure(size: int, repeat: int) -> dict[str, tuple[float, int]]:
    browser = client()
    changelist = "/admin/dbos_django/workflow/"
    results = {}
    for label, query in PAGES:
        path = f"{changelist}wf-00000042/change/" if query == "DETAIL" else changelist + query
        results[label] = time_page(browser, path, repeat)
    results["(reference) SELECT COUNT(*) of the table"] = (statistics.median(count_all_ms() for _ in range(3)), 1)
    return results


def report(sizes: list[int], results: dict[int, dict[str, tuple[float, int]]], fills: dict[int, float]) -> str:
    header = "| page | " + " | ".join(f"{size:,} rows: ms (queries)" for size in sizes) + " |"
    lines = [header, "|---|" + "---|" * len(sizes)]
    for label in results[sizes[0]]:
        cells = [f"{results[s][label][0]:.1f} ({results[s][label][1]})" for s in sizes]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    fill_text = ", ".join(f"{size:,} rows in {seconds:.1f} s" for size, seconds in fills.items())
    return "\n".join(lines) + f"\n\nMedian of the timed requests; filled with generate_series ({fill_text})."


def main() -> None:
    args = parse()
    recreate_database()
    setup_django()
    results, fills, filled = {}, {}, 0
    try:
        for size in sorted(args.sizes):
            fills[size] = fill(filled + 1, size)
            filled = size
            results[size] = measure(size, args.repeat)
            print(f"{size:,} rows measured", file=sys.stderr)
        print(report(sorted(args.sizes), results, fills))
    finally:
        if not args.keep:
            drop_database()


if __name__ == "__main__":
    main()
