"""The machinery around Rasa: starting and supervising the processes, and the Rasa server's fixes.

- :mod:`.processes`: the commands and environment of every process, waiting, stopping;
- :mod:`.supervisor`: runs a list of process specs, restarts a crashed one with backoff, logs, stops cleanly;
- :mod:`.rasa_config`: Rasa's endpoints.yml and credentials.yml written from the settings;
- :mod:`.stack`: ``python -m bot.runtime.stack run`` (``make run``): Rasa, actions, web app;
- :mod:`.production`: ``python -m bot.runtime.production run`` (``make run-prod``): N Rasa servers,
  PostgreSQL, Redis, nginx (:mod:`.nginx` writes its configuration); ``prepare`` and ``exec NAME`` for
  the systemd units of deploy/systemd;
- :mod:`.rasa_launcher`: the Rasa CLI with measured speed fixes (:mod:`.rasa_training`: those of ``rasa
  train``); :mod:`.rasa_shared` adds the fixes for several servers sharing their stores;
- :mod:`.tracker_store`: Rasa's SQL tracker store read incrementally (loaded by Rasa);
- :mod:`.spacy_model`: builds the French spaCy pipeline of the NLU.

The only package that imports Rasa. May import :mod:`bot.settings`, :mod:`bot.paths` and
:mod:`bot.regex_cache`; it starts the other parts as processes, never imports them.
"""
