"""What an invalid call must leave alone: every row of dbos_django's tables and of the test app's tables."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.apps import apps


def table_rows() -> dict[str, list[str]]:
    """Each table's rows (every column), sorted: a write, an update or a delete changes it."""
    models = [*apps.get_app_config("dbos_django").get_models(), *apps.get_app_config("testapp").get_models()]
    return {model._meta.db_table: sorted(map(repr, model._base_manager.values_list())) for model in models}


@contextmanager
def nothing_written() -> Iterator[None]:
    """Assert that the block changes no row (wrap it around ``pytest.raises``)."""
    before = table_rows()
    yield
    after = table_rows()
    changed = {table for table in before if before[table] != after[table]}
    assert not changed, f"rows changed in {', '.join(sorted(changed))}"
