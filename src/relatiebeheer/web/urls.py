from django.contrib.auth import views as auth_views
from django.urls import path

from .views import accounts, auth, pages, relations

app_name = "web"

urlpatterns = [
    path("login/", auth.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("logout/everywhere/", auth.logout_everywhere, name="logout_everywhere"),
    path("", pages.dashboard, name="dashboard"),
    path("tasks/", pages.my_tasks, name="tasks"),
    path("accounts/", accounts.account_list, name="accounts"),
    path("accounts/new/", accounts.account_create, name="account_create"),
    path("accounts/export.<str:fmt>", accounts.account_export, name="account_export"),
    path("accounts/selections/", accounts.selection_save, name="selection_save"),
    path(
        "accounts/selections/<int:pk>/delete/", accounts.selection_delete, name="selection_delete"
    ),
    path("accounts/<int:pk>/", accounts.account_detail, name="account"),
    path("accounts/<int:pk>/edit/", accounts.account_edit, name="account_edit"),
    path(
        "accounts/<int:account_pk>/contacts/new/", relations.contact_create, name="contact_create"
    ),
    path(
        "accounts/<int:account_pk>/interactions/",
        relations.interaction_create,
        name="interaction_create",
    ),
    path("accounts/<int:account_pk>/tasks/", relations.task_create, name="task_create"),
    path("contacts/<int:pk>/edit/", relations.contact_edit, name="contact_edit"),
    path("tasks/<int:pk>/done/", relations.task_done, name="task_done"),
]
