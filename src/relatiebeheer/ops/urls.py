from django.urls import path

from . import views

app_name = "ops"

urlpatterns = [
    path("", views.status_page, name="status"),
    path("tasks/<str:task_id>/retry/", views.task_retry, name="task_retry"),
]
