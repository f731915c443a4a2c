"""Storage: the project database, and what is kept in it.

- :mod:`.db`: the one way into the database (engine from the settings, a session per unit of work);
- :mod:`.tables`: the SQLAlchemy tables;
- :mod:`.analytics_tables`: the anonymous usage tables the owner's console reads;
- :mod:`.diagnostics`: the diagnostics repository (progress, result, API state);
- :mod:`.loader`: ``python -m bot.store.loader``, the questionnaire and knowledge YAML into the database;
- :mod:`.privacy`: erasure on request and the retention purge (``python -m bot.store.privacy``).

May import :mod:`bot.diagnostic`, :mod:`bot.knowledge`, :mod:`bot.settings`, :mod:`bot.paths` and
SQLAlchemy; never Rasa, Sanic or the web app.
"""
