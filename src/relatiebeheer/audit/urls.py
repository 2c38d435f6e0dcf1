from django.urls import path

from . import views

app_name = "audit"

urlpatterns = [
    path("", views.entry_list, name="audit_log"),
    path("export.csv", views.entry_export, name="audit_export"),
]
