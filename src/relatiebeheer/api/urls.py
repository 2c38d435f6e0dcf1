"""Mounts the API router of every app that has one (``<app>/api.py`` with ``router``)."""

from importlib import import_module
from importlib.util import find_spec

from django.apps import apps

from .core import api


def _mount_routers() -> None:
    for config in apps.get_app_configs():
        if not config.name.startswith("relatiebeheer."):
            continue
        module_name = f"{config.name}.api"
        if find_spec(module_name) is None:
            continue
        router = getattr(import_module(module_name), "router", None)
        if router is not None:
            api.add_router("/", router)


_mount_routers()
urlpatterns = api.urls[0]
