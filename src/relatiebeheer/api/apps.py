from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "relatiebeheer.api"
    label = "api"
    verbose_name = "API"
