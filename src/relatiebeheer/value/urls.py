from django.urls import path

from . import views

app_name = "value"

urlpatterns = [
    path("", views.value_overview, name="overview"),
    path("clv/", views.clv_calculator, name="calculator"),
]
