from django.urls import path

from . import views

app_name = "outbox"

urlpatterns = [
    path("", views.message_list, name="messages"),
    path("<int:pk>/resend/", views.message_resend, name="message_resend"),
    path("<int:pk>/mark-sent/", views.message_mark_sent, name="message_mark_sent"),
    path("u/<str:token>/", views.unsubscribe, name="unsubscribe"),
]
