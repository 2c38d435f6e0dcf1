"""The baseline for the API benchmark: one bare Django view that answers "hello".

Used as ``DJANGO_SETTINGS_MODULE=bench.hello_app`` under the same ``relatiebeheer serve``
(gunicorn gthread, same workers and threads) and the product's own settings and
middleware, so the only difference from the API is the view's work. This module is
both the settings module and the URLconf; the product's URLconf is not touched.
"""

from django.http import HttpResponse
from django.urls import path

from relatiebeheer.config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.hello_app"


def hello(request):
    return HttpResponse("hello", content_type="text/plain")


urlpatterns = [path("hello", hello)]
