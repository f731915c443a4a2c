"""The project's web app (Sanic): the demo page and the widget, the chat relay to Rasa, the report
pages and their chart, the diagnostic API, and the workshop pages.

Every HTML page (and the SVG chart) is a Jinja2 template of ``templates/``, rendered with
autoescaping by ``pages.py``; the scripts and stylesheets are the files of ``static/``.

It may import bot.diagnostic, bot.knowledge, bot.store, bot.workshops, bot.settings and bot.paths,
and Sanic, Jinja2 and aiohttp; never Rasa, never bot.runtime (the web app talks to Rasa over HTTP).
"""
