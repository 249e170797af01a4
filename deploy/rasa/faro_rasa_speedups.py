"""Faro's speed-up for Rasa 3.6, installed into the Rasa environment by scripts/setup.

Rasa validates every reply of the action server with
``jsonschema.validate(result, schema)``, and ``jsonschema.validate`` first
checks the *schema* against its meta-schema, on every call. Rasa's schema
never changes, so that check is repeated work: measured here it was the
largest single cost of a custom-action turn inside Rasa (see bench/README.md).
This module makes ``jsonschema.validate`` check each distinct schema once and
reuse the validator; what is validated, and the errors raised, are unchanged.
"""

from __future__ import annotations

import json
from typing import Any

import jsonschema
from jsonschema.exceptions import best_match
from jsonschema.validators import validator_for

_MAX_SCHEMAS = 256
_validators: dict[str, Any] = {}
_original_validate = jsonschema.validate


def validate(instance: Any, schema: Any, cls: Any = None, *args: Any, **kwargs: Any) -> None:
    """``jsonschema.validate`` with the schema checked once per distinct schema."""
    try:
        key = json.dumps(schema, sort_keys=True)
    except (TypeError, ValueError):
        _original_validate(instance, schema, cls, *args, **kwargs)
        return
    validator = _validators.get(key)
    if validator is None:
        validator_cls = cls or validator_for(schema)
        validator_cls.check_schema(schema)
        validator = validator_cls(schema, *args, **kwargs)
        if len(_validators) < _MAX_SCHEMAS:
            _validators[key] = validator
    error = best_match(validator.iter_errors(instance))
    if error is not None:
        raise error


jsonschema.validate = validate
