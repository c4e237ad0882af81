"""The web app's stable URLs (people bookmark them; tests and scripts use them)."""

from django.urls import include, path

from npldesk.web import health

app_name = "web"

urlpatterns = [
    path("", include("npldesk.web.accounts.urls")),
    path("", include("npldesk.web.worklist.urls")),
    path("cases/", include("npldesk.web.cases.urls")),
    path("teams/", include("npldesk.web.teams.urls")),
    path("legal/", include("npldesk.web.legal.urls")),
    path("finance/", include("npldesk.web.finance.urls")),
    path("admin/", include("npldesk.web.administration.urls")),
    path("inbox/", include("npldesk.web.inbox.urls")),
    path("", include("npldesk.web.figures.urls")),
    path("tape/", include("npldesk.web.tape.urls")),
    path("", include("npldesk.web.planner.urls")),
    path("health/", health.health, name="health"),
]
