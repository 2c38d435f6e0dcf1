from django.urls import path

from . import views

app_name = "imports"

urlpatterns = [
    path("", views.index, name="index"),
    path("new/", views.import_create, name="import_create"),
    path("<int:pk>/", views.import_detail, name="import_detail"),
    path("<int:pk>/mapping/", views.import_mapping_edit, name="import_mapping_edit"),
    path("<int:pk>/preview/", views.import_preview, name="import_preview"),
    path("<int:pk>/check/", views.import_validate, name="import_validate"),
    path("<int:pk>/run/", views.import_run, name="import_run"),
    path("<int:pk>/progress/", views.import_progress, name="import_progress"),
    path("<int:pk>/report.csv", views.import_report, name="import_report"),
    path("<int:pk>/rejected.csv", views.import_rejected, name="import_rejected"),
    path("presets/<int:pk>/delete/", views.preset_delete, name="preset_delete"),
    path("exports/", views.exports, name="exports"),
    path("exports/download.<str:fmt>", views.export_download, name="export_download"),
    path("duplicates/", views.duplicates, name="duplicates"),
    path("duplicates/<int:pk>/merge/", views.merge_edit, name="merge_edit"),
]
