app_name = "loyalty"

urlpatterns = []
