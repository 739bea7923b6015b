"""Test your workflows with pytest-django: deterministic, in the test's own thread and transaction.

    def test_checkout(dbos_runtime):                 # the pytest plugin's fixture
        handle = DBOS.start_workflow(checkout, 42)   # nothing runs yet
        dbos_runtime.drain()                         # now it runs, here, to the end
        assert handle.get_result() == "paid"

In testing mode there are no background threads: started, enqueued, delayed and recovered
workflows run when the test drains them (``get_result()`` drains what it waits for), on the
test's own database connection, so plain ``TestCase`` and ``@pytest.mark.django_db`` tests see
their rows and roll them back. Time comes from a ``FakeClock`` that tests move forward.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["DBOSTestRuntime", "FakeClock", "destroy", "launch"]

# Lazy: the pytest plugin imports this package before Django is set up.
_LAZY = {"DBOSTestRuntime": ".runtime", "FakeClock": ".clock", "destroy": ".runtime", "launch": ".runtime"}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'dbos_django.testing' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module, __name__), name)


if TYPE_CHECKING:
    from .clock import FakeClock
    from .runtime import DBOSTestRuntime, destroy, launch
