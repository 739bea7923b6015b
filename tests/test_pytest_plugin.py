"""The pytest plugin as users see it: a sample project's own test suite, run in a subprocess."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

SAMPLE = Path(__file__).parent / "sample_project"


def test_a_projects_own_tests_use_the_plugin_fixtures(pytester: pytest.Pytester, monkeypatch) -> None:
    shutil.copytree(SAMPLE, pytester.path, dirs_exist_ok=True)
    for variable in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "DBOS_USE_TEST_DB"):
        monkeypatch.delenv(variable, raising=False)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=3)
