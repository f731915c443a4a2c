"""The project's web app (Sanic): the diagnostic API now, the widget and reports later."""
