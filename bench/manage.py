#!/usr/bin/env python
"""``manage.py`` of the benchmark project: ``BENCH_DB`` and ``BENCH_DB_NAME`` pick the database.

BENCH_DB=postgres BENCH_DB_NAME=bench_queue_dbos_django python manage.py dbos_worker --burst
"""

from __future__ import annotations

import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "queue_settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
