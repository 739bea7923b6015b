"""Django settings of the messaging benchmarks: ``bench_settings`` plus the ``benchmsg`` app (its workflows)."""

from __future__ import annotations

from bench_settings import *  # noqa: F403
from bench_settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "benchmsg"]
