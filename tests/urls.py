from django.urls import path

from dbos_django.views import async_workflow_stream_view, workflow_stream_view


def anyone(request, workflow_id):
    return True


def nobody(request, workflow_id):
    return False


urlpatterns = [
    path("progress/<str:workflow_id>", workflow_stream_view("progress", access_check=anyone)),
    path("async-progress/<str:workflow_id>", async_workflow_stream_view("progress", access_check=anyone)),
    path("staff-progress/<str:workflow_id>", workflow_stream_view("progress")),
    path("secret-progress/<str:workflow_id>", workflow_stream_view("progress", access_check=nobody)),
]
