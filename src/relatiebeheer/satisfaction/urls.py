from django.urls import path

from . import views

app_name = "satisfaction"

urlpatterns = [
    path("", views.survey_list, name="surveys"),
    path("surveys/new/", views.survey_create, name="survey_create"),
    path("surveys/<int:pk>/", views.survey_edit, name="survey_edit"),
    path("surveys/<int:pk>/results/", views.survey_results, name="survey_results"),
    path("surveys/<int:pk>/export.<str:fmt>", views.survey_export, name="survey_export"),
    path("surveys/<int:pk>/send/", views.survey_send, name="survey_send"),
    path("accounts/<int:account_pk>/invite/", views.invite_create, name="invite_create"),
    path("followups/", views.followup_list, name="followups"),
    path("followups/<int:pk>/", views.followup_detail, name="followup"),
    path("a/<str:token>/", views.answer, name="answer"),
]
