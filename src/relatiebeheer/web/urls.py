from django.contrib.auth import views as auth_views
from django.urls import path

from .views import auth, pages

app_name = "web"

urlpatterns = [
    path("login/", auth.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", pages.dashboard, name="dashboard"),
]
