"""Registration: names, conflicts, and the application version."""

from __future__ import annotations

import pytest

from dbos_django import DBOS
from dbos_django.engine.registry import registry
from dbos_django.error import DBOSConflictingRegistrationError


def test_a_workflow_is_registered_under_its_qualname():
    @DBOS.workflow()
    def registered() -> None: ...

    assert registry.workflow(registered.__qualname__) is not None


def test_a_workflow_name_can_be_chosen():
    @DBOS.workflow(name="chosen-name")
    def named() -> None: ...

    assert registry.workflow("chosen-name").func.__name__ == "named"


def test_one_name_cannot_be_a_workflow_and_a_step():
    @DBOS.step(name="shared-name")
    def a_step() -> None: ...

    with pytest.raises(DBOSConflictingRegistrationError, match="shared-name"):

        @DBOS.workflow(name="shared-name")
        def a_workflow() -> None: ...


def test_the_application_version_comes_from_settings_when_set(settings):
    settings.DBOS = {**settings.DBOS, "APPLICATION_VERSION": "v42"}
    assert DBOS.application_version == "v42"


def test_the_default_application_version_hashes_the_workflows_source(settings):
    before = DBOS.application_version

    @DBOS.workflow(name="version-changer")
    def changes_the_version() -> int:
        return 1

    assert DBOS.application_version != before
    assert DBOS.application_version == registry.source_hash(settings.DBOS["APPLICATION_NAME"])


def test_executor_id_defaults_to_local():
    assert DBOS.executor_id == "local"
