"""Exit 0 if the PostgreSQL server of the URL given answers, 1 otherwise."""

import sys

import psycopg

url = sys.argv[1].replace("postgres://", "postgresql://", 1)
try:
    psycopg.connect(url, connect_timeout=3).close()
except Exception as exc:
    print(f"PostgreSQL at {url}: {exc}", file=sys.stderr)
    sys.exit(1)
