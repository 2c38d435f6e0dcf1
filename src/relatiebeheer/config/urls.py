from django.contrib import admin
from django.urls import include, path

from relatiebeheer.api.urls import api

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("value/", include("relatiebeheer.value.urls")),
    path("satisfaction/", include("relatiebeheer.satisfaction.urls")),
    path("loyalty/", include("relatiebeheer.loyalty.urls")),
    path("imports/", include("relatiebeheer.imports.urls")),
    path("reports/", include("relatiebeheer.reports.urls")),
    path("outbox/", include("relatiebeheer.outbox.urls")),
    path("privacy/", include("relatiebeheer.privacy.urls")),
    path("audit/", include("relatiebeheer.audit.urls")),
    path("status/", include("relatiebeheer.ops.urls")),
    path("", include("relatiebeheer.web.urls")),
]
