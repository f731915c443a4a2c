"""Synthetic Rasa events, shaped like what Rasa's event broker publishes (Rasa 3.6), for the projection tests."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.engine import Engine

from bot.store.event_store import insert_events

START = 1_790_000_000.0


class Script:
    """Builds one conversation's events, a second apart, the way our actions and forms emit them."""

    def __init__(self, sender: str, start: float = START) -> None:
        self.sender = sender
        self.clock = start
        self.events: list[dict[str, Any]] = []

    def _add(self, event: dict[str, Any]) -> Script:
        self.clock += 1
        self.events.append({"sender_id": self.sender, "timestamp": self.clock, **event})
        return self

    def user(self, text: str, intent: str, entities: dict[str, str] | None = None) -> Script:
        parse = {"intent": {"name": intent, "confidence": 0.9}, "text": text,
                 "entities": [{"entity": name, "value": value} for name, value in (entities or {}).items()]}
        return self._add({"event": "user", "text": text, "parse_data": parse, "input_channel": "rest"})

    def action(self, name: str) -> Script:
        return self._add({"event": "action", "name": name, "policy": "RulePolicy", "confidence": 1.0})

    def slot(self, name: str, value: Any) -> Script:
        return self._add({"event": "slot", "name": name, "value": value})

    def loop(self, name: str | None) -> Script:
        return self._add({"event": "active_loop", "name": name})

    def bot(self, text: str, response: str | None = None) -> Script:
        return self._add({"event": "bot", "text": text, "data": {}, "metadata": {"utter_action": response}
                          if response else {}})

    def listen(self) -> Script:
        return self.action("action_listen")

    # What our dialogue does ----------------------------------------------------------------------

    def start(self) -> Script:
        """« Faire le diagnostic »: the form starts and asks the first question."""
        self.action("action_session_start")._add({"event": "session_started"}).listen()
        self.user("/start_diagnostic", "start_diagnostic").action("diagnostic_form").loop("diagnostic_form")
        return self.slot("requested_slot", "actor_type").bot("Question 1/13").listen()

    def answer(self, question: str, option: str, typed: str | None = None, next_question: str | None = None) -> Script:
        text = typed or f'/answer{{"question_id": "{question}", "choice": "{option}"}}'
        self.user(text, "inform" if typed else "answer", None if typed else {"question_id": question})
        self.action("diagnostic_form").slot(question, option)
        if next_question is None:
            return self.slot("requested_slot", None).loop(None).action("action_recap").bot("recap").listen()
        return self.slot("requested_slot", next_question).bot("Question").listen()

    def not_understood(self, question: str, text: str) -> Script:
        self.user(text, "inform").action("diagnostic_form")
        self.bot("Je n'ai pas compris", "utter_not_understood_answer").slot(question, None)
        return self.slot("requested_slot", question).bot("Question").listen()

    def fallback(self, text: str, question: str | None = None) -> Script:
        self.user(text, "nlu_fallback")
        if question:
            self._add({"event": "action_execution_rejected", "name": "diagnostic_form"})
        self.action("action_default_fallback").bot("Je n'ai pas bien compris", "utter_fallback_suggestions")
        if question:
            self.action("diagnostic_form").slot("requested_slot", question).bot("Question")
        return self.listen()

    def interruption(self, question: str) -> Script:
        """« Pourquoi cette question ? », answered, then the same question again."""
        self.user("/why_question", "why_question")._add({"event": "action_execution_rejected",
                                                         "name": "diagnostic_form"})
        self.action("action_explain_question").bot("Pourquoi", "utter_why_intro")
        return self.action("diagnostic_form").slot("requested_slot", question).bot("Question").listen()

    def correct(self, text: str, question: str, value: str) -> Script:
        """A correction in words outside the form (after the recap or the result)."""
        return self.user(text, "correct").action("action_correct_answer").slot(question, value).bot("corrigé").listen()

    def result(self) -> Script:
        self.user("/confirm_result", "confirm_result").action("action_show_result").bot("Résultat")
        return self.slot("result_shown", True).action("feedback_form").loop("feedback_form").listen()

    def gap(self, text: str) -> Script:
        return self.user(text, "ask_tools").action("action_find_tools").bot("Rien", "utter_no_results").listen()

    def erase(self) -> Script:
        self.user("/confirm_delete_my_data", "confirm_delete_my_data").action("action_delete_my_data")
        return self.bot("C'est fait", "utter_data_deleted")._add({"event": "restart"}).listen()


ORDER = ("actor_type", "size", "scale", "theme", "experience", "partners", "organisation", "evaluation",
         "resources", "support", "goal", "partners_wanted", "horizon")


def full_diagnostic(script: Script) -> Script:
    script.start()
    for index, question in enumerate(ORDER):
        script.answer(question, "x", next_question=ORDER[index + 1] if index + 1 < len(ORDER) else None)
    return script


def publish(engine: Engine, *scripts: Script, interleave: bool = False) -> None:
    """Write the scripts' events into the raw event table, as Rasa's SQL broker does."""
    streams = [script.events for script in scripts]
    if interleave:
        ordered = sorted((event for stream in streams for event in stream), key=lambda event: event["timestamp"])
    else:
        ordered = [event for stream in streams for event in stream]
    with engine.begin() as connection:
        insert_events(connection, [json.dumps(event) for event in ordered])
