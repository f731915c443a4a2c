"""The knowledge base: doors, tools, examples, support structures, glossary, key figures.

- :mod:`.model`: the entries and their loading from ``data/knowledge/*.yml``, validated;
- :mod:`.lookup`: « c'est quoi X ? » look-ups, citations of sources;
- :mod:`.search`: free-text search ranked by meaning (spaCy word vectors);
- :mod:`.recommend`: tools and examples ranked for a diagnostic, with a reason each.

Plain Python: may import :mod:`bot.diagnostic` (tags are questionnaire ids), :mod:`bot.paths` and
:mod:`bot.regex_cache`; never Rasa, Sanic, SQLAlchemy or the web app.
"""
