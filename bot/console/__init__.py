"""The owner's console: what the pages of ``/admin`` show, computed from the database.

- :mod:`.period`: the chosen period (from/to dates) and its time buckets (day, week or month);
- :mod:`.figures`: the overview (conversations, diagnostics started and finished, doors, levels,
  dimension averages, workshops);
- :mod:`.funnel`: per question, who reached it, who left there, typed answers, not understood, corrected;
- :mod:`.inbox`: what was not understood, grouped, and its labels;
- :mod:`.nlu_export`: the labelled messages as Rasa NLU training data;
- :mod:`.listening`: knowledge gaps and feedback;
- :mod:`.csv_export`: the aggregates as CSV;
- :mod:`.redact`: a second mask on typed text before it is shown or exported;
- :mod:`.password`: the console password's hash (``python -m bot.console set-password``);
- :mod:`.refresh`: turns pending broker events into analytics rows before a page is computed.

Aggregates only: nothing here returns a conversation id, a visitor key or an individual diagnostic.
Plain Python and SQLAlchemy. May import :mod:`bot.diagnostic`, :mod:`bot.knowledge`, :mod:`bot.store`,
:mod:`bot.analytics`, :mod:`bot.settings` and :mod:`bot.paths`; never Rasa, Sanic or the web app.
"""
