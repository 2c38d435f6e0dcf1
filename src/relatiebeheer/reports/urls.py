from django.urls import path

from . import views

app_name = "reports"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("portfolio/", views.portfolio_page, name="portfolio"),
    path("portfolio.<str:fmt>", views.portfolio_download, name="portfolio_download"),
    path("accounts/<int:pk>/plan/", views.account_plan_page, name="account_plan"),
    path("accounts/<int:pk>/plan.pdf", views.account_plan_pdf, name="account_plan_pdf"),
]
