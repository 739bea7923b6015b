"""Migrations that only PostgreSQL runs (the NOTIFY triggers): SQLite has no LISTEN to wake."""

from __future__ import annotations

from typing import Any

from django.db import migrations


def postgres_only(create: str, drop: str) -> migrations.RunPython:
    """A ``RunPython`` that runs ``create`` forwards and ``drop`` backwards, on PostgreSQL only."""

    def forwards(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(create)

    def backwards(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(drop)

    return migrations.RunPython(forwards, backwards)
