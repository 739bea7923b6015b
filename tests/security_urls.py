"""URLs of tests/test_security.py: stream views whose access check looks at the workflow id."""

from django.http import HttpRequest
from django.urls import path

from dbos_django.views import async_workflow_stream_view, workflow_stream_view


def owner_only(request: HttpRequest, workflow_id: str) -> bool:
    """A user watches only the workflows whose id starts with their username (``alice-...``)."""
    user = request.user
    return bool(user.is_authenticated and workflow_id.startswith(f"{user.get_username()}-"))


def anyone(request: HttpRequest, workflow_id: str) -> bool:
    return True


urlpatterns = [
    path("mine/<str:workflow_id>", workflow_stream_view("progress", access_check=owner_only)),
    path("staff/<str:workflow_id>", workflow_stream_view("progress")),
    path("open/<str:workflow_id>", workflow_stream_view("progress", access_check=anyone)),
    path("async-open/<str:workflow_id>", async_workflow_stream_view("progress", access_check=anyone)),
]
