from django.urls import path

from . import views

app_name = "privacy"

urlpatterns = [
    path("contacts/<int:pk>/", views.contact_privacy, name="contact"),
    path("contacts/<int:pk>/consent/", views.consent_change, name="consent"),
    path("contacts/<int:pk>/export.<str:fmt>", views.contact_export, name="export"),
    path("contacts/<int:pk>/erase/", views.contact_erase, name="erase"),
]
