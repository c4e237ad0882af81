"""The web app: server-rendered pages (Django templates and htmx) for every role's daily work.

A face: each view parses the request, calls one selector, service or report builder with the
signed-in person, and renders. Nothing imports this package; it never reads the ORM itself.
Areas (``accounts``, ``worklist``, ``cases``, …) follow the casework's service areas, each with
its views, forms and urls; templates live under ``templates/web/<area>/``.
"""
