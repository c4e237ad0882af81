"""The web app: role- and unit-scoped views, REST API, served assets. Nothing imports it."""
