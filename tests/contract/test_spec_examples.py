"""Every operation of the contract carries a description, a request example (when it takes a body) and a
response example, and every example is valid against its own schema (they are made from the schemas)."""

from __future__ import annotations

from typing import Any

import jsonschema_rs

from integrations.api.examples import example, matching
from tools.openapi import current_spec


def bodies(operation: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    found = [("request", operation["requestBody"])] if "requestBody" in operation else []
    return found + [(code, r) for code, r in operation.get("responses", {}).items() if code.startswith("2")]


def test_every_operation_is_described_and_exemplified_validly() -> None:
    spec = current_spec()
    problems = []
    responses_with_example = 0
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            where = f"{method.upper()} {path}"
            if not operation.get("description"):
                problems.append(f"{where}: no description")
            for part, body in bodies(operation):
                for media, content in body.get("content", {}).items():
                    if "json" not in media:
                        continue
                    if "example" not in content:
                        problems.append(f"{where} {part}: no example")
                        continue
                    responses_with_example += part != "request"
                    schema = {**content["schema"], "components": spec["components"]}
                    for error in jsonschema_rs.validator_for(schema).iter_errors(content["example"]):
                        problems.append(f"{where} {part}: example invalid: {str(error)[:200]}")
    assert problems == []
    assert responses_with_example >= 100


def test_examples_follow_patterns_and_bounds() -> None:
    assert matching(r"^int_[0-9a-f]{24}$") == "int_" + "0" * 24
    assert matching(r"^([01][0-9]|2[0-3]):[0-5][0-9]$") == "00:00"
    assert matching(r"^[^;]+$") is None  # a negated class: no guess, the type's placeholder is used
    spec: dict[str, Any] = {}
    assert example({"type": "array", "items": {"type": "integer", "minimum": 5}, "minItems": 2}, spec) == [6, 6]
    assert example({"type": "object", "propertyNames": {"enum": ["sandbox"]}, "additionalProperties": {"type": "string"}},
                   spec) == {"sandbox": "string"}  # fmt: skip
