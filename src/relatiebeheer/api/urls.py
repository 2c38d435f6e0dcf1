from relatiebeheer.relations.api import router as relations_router
from relatiebeheer.sales.api import router as sales_router
from relatiebeheer.value.api import router as value_router

from .core import api

api.add_router("/", relations_router)
api.add_router("/", sales_router)
api.add_router("/", value_router)

urlpatterns = api.urls[0]
