from django.urls import include, path

from services import urls_cards, urls_merchants, urls_survey, urls_till, urls_uses

app_name = "services"

urlpatterns = [
    path("merchants/", include(urls_merchants)),
    path("cards/", include(urls_cards)),
    path("uses/", include(urls_uses)),
    path("till/", include(urls_till)),
    path("surveys/", include(urls_survey)),
]
