"""Anonymous usage analytics, for the owner's console (``/admin``): where the figures come from.

Rasa's event broker carries every conversation event into a raw ``events`` table (the SQL broker with
``make run``, RabbitMQ and :mod:`.consumer` in production mode). :mod:`.projector` turns those events into
the anonymous rows of :mod:`bot.store.analytics_tables` and then deletes them; :mod:`.masking` hides
e-mail addresses, phone numbers and long digit strings before any text is stored; :mod:`.feedback`
records « Ce résultat vous est-il utile ? »; :mod:`.events` is the raw event table and its database.

Plain Python: may import bot.diagnostic, bot.store, bot.settings, SQLAlchemy and pika, never Rasa,
Sanic or the web app. See docs/analytics.md.
"""
