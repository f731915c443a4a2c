"""The result of a diagnostic as the user sees it: scores, recommendations, action plan, progress, messages.

- :mod:`.build`: a finished questionnaire turned into a complete result (door, level, tools and
  examples ranked for this user, next steps, support structures, change since the previous result),
  and its JSON for the database, the API and the report;
- :mod:`.progress`: what changed since the previous diagnostic;
- :mod:`.messages`: the result in the chat, as a short sequence of messages, with cards for the widget
  and a readable text for other channels.

Plain Python: may import :mod:`bot.diagnostic` and :mod:`bot.knowledge`; never Rasa, Sanic,
SQLAlchemy or the web app.
"""
