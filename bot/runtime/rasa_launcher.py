"""``python -m bot.runtime.rasa_launcher <rasa arguments>``: the Rasa CLI with eleven measured fixes.

1. Rasa 3.6 checks every action-server response against a JSON schema with
   ``jsonschema.validate``, which re-checks the schema itself and rebuilds a
   validator on every call: 17 ms of CPU per call on this machine, two calls per
   questionnaire answer (profiled in bench/). The same schema is checked here by a
   validator built once, with the same errors.
2. Rasa 3.6 runs the whole NLU pipeline (spaCy, featurizers, DIET) on a button
   payload such as ``/answer{"question_id": …}`` and then throws the result away:
   its last component, ``RegexMessageHandler``, replaces it by the intent and
   entities written in the payload. That was 31 % of a Rasa server's CPU under the
   production benchmark (py-spy). A payload naming an intent of the domain is now
   unpacked first, by the same Rasa function, and the pipeline is skipped; any
   other message (typed text, a malformed or unknown payload) goes through the
   pipeline as before. tests/nlu/test_payload_shortcut.py checks that both give
   the same parse.
3. Rasa 3.6 opens a new HTTP session, hence a new TCP connection, for every call
   to an endpoint (the action server: two calls per questionnaire answer); 4 % of a
   Rasa server's CPU went to connecting, plus the action server's side. Each
   endpoint now keeps one session per event loop, with Rasa's headers, auth and
   timeout, whose idle connections are closed after 2 s, before the action
   server's own 5 s keep-alive limit, so that a connection is never reused just
   as the server drops it. The session encodes a call's JSON with ujson (Sanic's, installed with
   Rasa) instead of the standard library: a call carries the whole session, and encoding it was
   12.6 % of a Rasa server's CPU in a long session (docs/performance.md). ujson 5 writes floats
   to the same round-trip precision; the tests compare the decoded bodies.

4. Rasa 3.6's prediction graph builds ``SpacyNLP`` twice (the ``provide_SpacyNLP0`` node,
   whose model is the one used, and ``run_SpacyNLP0``), and each loads the spaCy pipeline
   and its word vectors from disk: the second copy is never used, and its load is seconds
   of start-up (docs/performance.md). The pipeline is now loaded once per name and shared;
   it is only read (``nlp(text)``), never changed. It is also loaded without its vocabulary's
   string store (712,952 strings, 130 MiB resident): a token's vector is found by the hash of
   its text, and the strings of the tokens seen are added as they come; the tokens, vectors,
   lemmas and norms of the 10,718 NLU examples are the same (docs/performance.md).

5. Rasa 3.6 recomputes ``DialogueStateTracker.applied_events()`` from the whole session about ten
   times per prediction (the processor, both policies, the featurizer, each ``past_states``), and each
   pass walks back through the earlier form executions: ``applied_events`` was 19 % of a Rasa server's
   CPU in the profile of docs/performance.md, and it grows with the session. Its result depends only
   on the tracker's events, which Rasa only ever appends to (or replaces by a new deque), so it is now
   kept per tracker with the events it was computed from, and recomputed as soon as an event is added.
   Every caller gets its own copy of the list.
6. Every call to the action server carries the whole session, and each typed message in it carries
   DIET's confidence for all the intents of the domain (``ranking_length: 0``, 67 intents). Only the
   latest message's ranking is read by the actions (``bot.diagnostic.answers``, ``corrections``,
   ``actions/conversation.py``); older messages are read for their text, intent and entities only
   (``actions/reading.py``). The older rankings are left out of the call; the tracker itself, the tracker
   store and the event broker keep them. So are the text, buttons and metadata of the bot's messages
   before the latest user message (a third of a late call's 100 kB): no action reads a bot message, and
   these events keep their place and timestamp.
7. SQLAlchemy 1.4 gives an SQLite file database a ``NullPool``: Rasa's tracker store and SQL event
   broker opened a new SQLite connection (file, schema, PRAGMAs) for every unit of work, several per
   turn: 6.5 % of a Rasa server's CPU in ``make run`` (docs/performance.md). Their engines now keep
   their connections (``QueuePool``, as SQLAlchemy 2.0 does by default); a pooled connection is used by
   one thread at a time, so ``check_same_thread`` is off. PostgreSQL and in-memory databases are left
   as they are.
8. To load DIET, Rasa 3.6 first trains it on one example (``model.fit``) so that its weights exist, then
   overwrites them with the trained ones. Tracing that training step, gradients of the CRF included,
   was two thirds of a Rasa server's start (py-spy: 17 of 25 s of ``load_agent``). The weights are now
   created by one eager prediction on the same example, then loaded, and Rasa's own warm-up prediction
   traces the prediction graph anew with them (what it computed before loading, the label embeddings
   and the traced graph, is dropped). tests/nlu/test_model_loading.py checks that both loads give the
   same parse of every test message. ``--finetune`` keeps Rasa's path: it needs the optimizer's state.
   The warm-up traces the prediction without AutoGraph, whose rewriting of Rasa's Python source took 1.6 s
   of every start: no condition or loop of the prediction depends on a tensor (same test).
9. spaCy's French tokenizer compiles a regular expression of 1.45 million characters at every start (2.7 s
   in pure Python): its compiled program is kept on disk in ``models/regex-cache`` (:mod:`bot.regex_cache`).
10. TensorFlow 2.12 requires JAX, and its TF Lite converter imports it when TensorFlow is imported, inside a
    ``try`` that carries on without it: 0.6 s of every start and 90 MiB resident per Rasa server, for a
    converter Rasa never calls. JAX is now marked absent before TensorFlow is imported, the case TF handles.
11. For ``rasa train`` only: DIET's training step no longer decodes entity tags for a progress-bar figure
    (:mod:`.rasa_training`); the trained weights are bitwise the same.

Everything else is Rasa as shipped. Rasa is imported only when the launcher runs
(the rest of ``bot`` stays Rasa-free).
"""

from __future__ import annotations

import asyncio
import sys
from functools import lru_cache
from typing import Any

from bot import regex_cache
from bot.paths import REGEX_CACHE


def _skip_jax() -> None:
    if "tensorflow" not in sys.modules:  # once TensorFlow is imported, JAX is either loaded or not needed
        sys.modules.setdefault("jax", None)  # type: ignore[arg-type]  # an import of it raises ImportError


def _install_cached_response_validation() -> None:
    from jsonschema import ValidationError
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import RemoteAction

    @lru_cache(maxsize=1)
    def validator() -> Any:
        schema = RemoteAction.action_response_format_spec()
        return validator_for(schema)(schema)

    original = RemoteAction._validate_action_result

    def validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
        try:
            validator().validate(result)
        except ValidationError:
            return original(self, result)  # Rasa's own path, for its error message
        return True

    RemoteAction._validate_action_result = validate_action_result  # type: ignore[method-assign]


def _install_payload_shortcut() -> None:
    from rasa.core.processor import MessageProcessor
    from rasa.nlu.classifiers.regex_message_handler import RegexMessageHandler
    from rasa.shared.core.trackers import DialogueStateTracker
    from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_NAME_KEY, PREDICTED_CONFIDENCE_KEY, TEXT
    from rasa.shared.nlu.training_data.message import Message

    graph_parse = MessageProcessor._parse_message_with_graph
    handler = RegexMessageHandler()

    def parse(self: MessageProcessor, message: Any, tracker: DialogueStateTracker,
              only_output_properties: bool = True) -> dict[str, Any]:
        intent = payload_intent(message.text)
        if intent is None or intent not in self.domain.intents:
            return graph_parse(self, message, tracker, only_output_properties)
        # What the pipeline's last node would return: the message rebuilt from its payload alone.
        (unpacked,) = handler.process([Message(data={TEXT: message.text})], self.domain)
        parse_data: dict[str, Any] = {TEXT: "", INTENT: {INTENT_NAME_KEY: None, PREDICTED_CONFIDENCE_KEY: 0.0},
                                      ENTITIES: []}
        parse_data.update(unpacked.as_dict(only_output_properties=only_output_properties))
        return parse_data

    MessageProcessor._parse_message_with_graph = parse  # type: ignore[method-assign]


def payload_intent(text: str | None) -> str | None:
    """The intent named by a ``/intent{…}`` payload, by Rasa's own pattern; None for anything else."""
    from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader
    from rasa.shared.nlu.constants import INTENT_NAME_KEY

    stripped = (text or "").strip()
    if not stripped.startswith("/"):
        return None
    match = YAMLStoryReader._regex_message_pattern().match(stripped)
    return match.group(INTENT_NAME_KEY).strip() if match else None


# Below Sanic's default KEEP_ALIVE_TIMEOUT (5 s) on the action server's side.
CLIENT_KEEPALIVE_SECONDS = 2.0


class _OpenSession:
    """``async with`` over a session that stays open after the block, so its connections are reused."""

    def __init__(self, session: Any) -> None:
        self.session = session

    async def __aenter__(self) -> Any:
        return self.session

    async def __aexit__(self, *_exc: object) -> None:
        return None


def _install_kept_alive_endpoints() -> None:
    import aiohttp
    import ujson
    from rasa.core.constants import DEFAULT_REQUEST_TIMEOUT
    from rasa.utils.endpoints import EndpointConfig

    def new_session(endpoint: EndpointConfig) -> aiohttp.ClientSession:
        # Rasa's own session (EndpointConfig.session), with a connector that keeps connections a short while.
        auth = None
        if endpoint.basic_auth:
            auth = aiohttp.BasicAuth(endpoint.basic_auth["username"], endpoint.basic_auth["password"])
        return aiohttp.ClientSession(
            headers=endpoint.headers, auth=auth, timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),
            connector=aiohttp.TCPConnector(keepalive_timeout=CLIENT_KEEPALIVE_SECONDS),
            json_serialize=lambda body: ujson.dumps(body, ensure_ascii=False, escape_forward_slashes=False),
        )

    def session(self: EndpointConfig) -> _OpenSession:
        loop = asyncio.get_running_loop()
        kept = self.__dict__.get("_kept_session")
        if kept is None or kept[0] is not loop or kept[1].closed:
            kept = (loop, new_session(self))
            self.__dict__["_kept_session"] = kept
        return _OpenSession(kept[1])

    EndpointConfig.session = session  # type: ignore[method-assign]


def _install_shared_spacy_model() -> None:
    import spacy
    from rasa.nlu.utils.spacy_utils import SpacyNLP

    load = SpacyNLP.load_model
    loaded: dict[str, Any] = {}

    def load_model(spacy_model_name: str) -> Any:
        if spacy_model_name not in loaded:
            # Rasa's own load (its checks and messages), with spacy.load told to leave out the string store.
            spacy_load = spacy.load
            spacy.load = lambda name, **options: spacy_load(name, **{"exclude": ["strings"], **options})
            try:
                loaded[spacy_model_name] = load(spacy_model_name)
            finally:
                spacy.load = spacy_load
        return loaded[spacy_model_name]

    SpacyNLP.load_model = staticmethod(load_model)  # type: ignore[method-assign]


def _install_applied_events_memo() -> None:
    from rasa.shared.core.trackers import DialogueStateTracker

    compute = DialogueStateTracker.applied_events

    def applied_events(self: DialogueStateTracker) -> list[Any]:
        events = self.events
        count = len(events)
        last = events[-1] if count else None
        kept = self.__dict__.get("_applied_events_memo")
        # The same deque, as long, ending with the same event: nothing was added (a full deque with a
        # maxlen drops its first event when one is added, so its last event changes).
        if kept is None or kept[0] is not events or kept[1] != count or kept[2] is not last:
            kept = (events, count, last, compute(self))
            self.__dict__["_applied_events_memo"] = kept
        return list(kept[3])

    DialogueStateTracker.applied_events = applied_events  # type: ignore[method-assign]


def _install_lean_action_calls() -> None:
    from rasa.core.actions.action import RemoteAction

    build = RemoteAction._action_call_format

    def action_call_format(self: RemoteAction, tracker: Any, domain: Any) -> dict[str, Any]:
        call = build(self, tracker, domain)
        events = call["tracker"].get("events") or []
        users = [index for index, event in enumerate(events) if event.get("event") == "user"]
        for index in users[:-1]:
            parse = events[index].get("parse_data")
            if isinstance(parse, dict) and "intent_ranking" in parse:
                # A new dict: the event's as_dict() may share its parse_data with the tracker's own event.
                events[index]["parse_data"] = {key: value for key, value in parse.items() if key != "intent_ranking"}
        for index in range(users[-1] if users else 0):
            if events[index].get("event") == "bot":
                events[index] = {key: events[index][key] for key in ("event", "timestamp") if key in events[index]}
        return call

    RemoteAction._action_call_format = action_call_format  # type: ignore[method-assign]


def _install_pooled_sqlite() -> None:
    import sqlalchemy
    from sqlalchemy.engine import make_url
    from sqlalchemy.pool import QueuePool

    create_engine = sqlalchemy.create_engine

    def create_pooled_engine(url: Any, *args: Any, **kwargs: Any) -> Any:
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
            kwargs.setdefault("poolclass", QueuePool)
            kwargs["connect_args"] = {"check_same_thread": False, **kwargs.get("connect_args", {})}
        return create_engine(url, *args, **kwargs)

    # Rasa's tracker store and SQL event broker call sqlalchemy.create_engine through the module at each start.
    sqlalchemy.create_engine = create_pooled_engine


def _install_eager_model_loading() -> None:
    from rasa.utils.tensorflow.models import RasaModel

    load = RasaModel.load.__func__  # type: ignore[attr-defined]

    def load_without_training(cls: type[RasaModel], model_file_name: str, model_data_example: Any,
                              predict_data_example: Any = None, finetune_mode: bool = False,
                              *args: Any, **kwargs: Any) -> RasaModel:
        if finetune_mode or predict_data_example is None:
            return load(cls, model_file_name, model_data_example, predict_data_example, finetune_mode, *args, **kwargs)
        import tensorflow as tf
        from rasa.utils.tensorflow.constants import LEARNING_RATE, RUN_EAGERLY

        model = cls(*args, **kwargs)
        config = kwargs.get("config", {})  # Rasa's own compile, with its defaults
        model.compile(optimizer=tf.keras.optimizers.Adam(config.get(LEARNING_RATE, 0.001)),
                      run_eagerly=config.get(RUN_EAGERLY))
        traced = model._run_eagerly
        model._run_eagerly = True  # build every weight the prediction uses, without tracing anything
        model.run_inference(predict_data_example)
        model._run_eagerly = traced
        model.load_weights(model_file_name).expect_partial()  # the optimizer's slots are not needed to predict
        # Computed from the weights before loading: the label embeddings and, in eager mode, no graph yet.
        model.prepared_for_prediction = False
        model._tf_predict_step = None
        # Traced as written, without AutoGraph's rewriting of the Python source into graph code (1.6 s of the
        # start): every condition and loop of the prediction is on Python values, none on a tensor.
        model.predict_step = tf.autograph.experimental.do_not_convert(model.predict_step)
        model.run_inference(predict_data_example)  # Rasa's own warm-up: traces the prediction graph
        return model

    RasaModel.load = classmethod(load_without_training)  # type: ignore[method-assign,assignment]


def install() -> None:
    """Fixes 1 to 10, in this process (the launcher, and the tests that compare with Rasa as shipped)."""
    _skip_jax()
    regex_cache.install(REGEX_CACHE)
    _install_cached_response_validation()
    _install_payload_shortcut()
    _install_kept_alive_endpoints()
    _install_shared_spacy_model()
    _install_applied_events_memo()
    _install_lean_action_calls()
    _install_pooled_sqlite()
    _install_eager_model_loading()


def main() -> None:
    install()
    if sys.argv[1:2] == ["train"]:
        from bot.runtime import rasa_training

        rasa_training.install()
    from rasa.__main__ import main as rasa_main

    sys.argv = ["rasa", *sys.argv[1:]]
    rasa_main()


if __name__ == "__main__":
    main()
