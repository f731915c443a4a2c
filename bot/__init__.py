"""« Apprendre à faire alliance » assistant: the project's own Python code, one package per concern.

Domain, plain Python tested without a server:

- :mod:`bot.diagnostic`: the questionnaire, its scoring, reading answers in words;
- :mod:`bot.knowledge`: the knowledge base, its look-ups, search and recommendation;

around it:

- :mod:`bot.store`: the project database (diagnostics, loader, privacy);
- :mod:`bot.workshops`: trainers' workshops (codes, dashboard, export);
- :mod:`bot.web`: the Sanic web app (pages, widget, API, chat relay);
- :mod:`bot.runtime`: the processes and Rasa itself (stack, production mode, launcher);
- :mod:`bot.settings` and :mod:`bot.paths`: settings from ``.env`` and where files are;
- :mod:`bot.regex_cache`: compiled long regular expressions kept on disk (standard library only).

Each package's docstring says what it may import; tests/unit/test_architecture.py checks it.
The Rasa custom actions, thin adapters over these packages, are in ``actions/``.
"""
