"""Speed fixes for Rasa 3.6.21 internals, applied when the Rasa server loads our tracker store.

RemoteAction._validate_action_result calls `jsonschema.validate`, which re-checks the (constant)
response schema against the JSON-Schema meta-schema on every call: 45-50 ms of CPU for every answer
from the action server, i.e. every session start and every turn of the contact form. Here the
response is validated against the same schema by a validator built once, with the same error.
"""
from functools import lru_cache
from typing import Any, Dict, Text

from rasa.core.actions.action import RemoteAction


@lru_cache(maxsize=1)
def _response_validator() -> Any:
    from jsonschema.validators import validator_for

    schema = RemoteAction.action_response_format_spec()
    validator_class = validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema)


def _validate_action_result(self: RemoteAction, result: Dict[Text, Any]) -> bool:
    from jsonschema import ValidationError
    from jsonschema.exceptions import best_match

    error = best_match(_response_validator().iter_errors(result))
    if error is None:
        return True
    if not isinstance(error, ValidationError):  # pragma: no cover - jsonschema always gives one
        raise error
    error.message += (
        ". Failed to validate Action server response from API, make sure your response from the Action "
        "endpoint is valid."
    )
    raise error


def apply() -> None:
    RemoteAction._validate_action_result = _validate_action_result  # type: ignore[method-assign]
