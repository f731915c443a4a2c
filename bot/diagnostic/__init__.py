"""The diagnostic domain: the questionnaire as validated data, its scoring, and reading answers in words.

- :mod:`.questionnaire`: the questionnaire model (doors, levels, dimensions, questions, options);
- :mod:`.questionnaire_validation`: building it from YAML or database rows, with messages that name
  the file, the entry and the field;
- :mod:`.scoring`: door scores, maturity, level, dimensions and reasons;
- :mod:`.answers`: an NLU parse read as answers, in the context of the question asked;
- :mod:`.gazetteer`: the spellings of each answer found in the NLU training data;
- :mod:`.text`: text normalisation shared by every reader of user text.

Plain Python: may import only :mod:`bot.paths` and the standard library, PyYAML; never Rasa,
Sanic, SQLAlchemy or the web app. Tested without any server (tests/unit/diagnostic).
"""
