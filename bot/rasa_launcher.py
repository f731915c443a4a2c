"""``python -m bot.rasa_launcher <rasa arguments>``: the Rasa CLI with one measured speed fix.

Rasa 3.6 checks every action-server response against a JSON schema with
``jsonschema.validate``, which re-checks the schema itself and rebuilds a
validator on every call: 17 ms of CPU per call on this machine, two calls per
questionnaire answer (profiled in bench/). The same schema is checked here by a
validator built once, with the same errors. Everything else is Rasa as shipped.
Rasa is imported only when the launcher runs (the rest of ``bot`` stays Rasa-free).
"""

from __future__ import annotations

import sys
from functools import lru_cache
from typing import Any


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


def main() -> None:
    _install_cached_response_validation()
    from rasa.__main__ import main as rasa_main

    sys.argv = ["rasa", *sys.argv[1:]]
    rasa_main()


if __name__ == "__main__":
    main()
