"""Examples on every operation of the spec, built from the schemas themselves: each field's own `examples`
(the models declare them), else its default, its first enum value or a value of its type and format. An
operation with a hand-written example keeps it. A generated client's docstrings and Swagger UI's "Try it out"
then start from a plausible body, and no example drifts from its schema: it is made from it."""

from __future__ import annotations

import re
import re._parser as re_parser  # type: ignore[import-not-found]  # stdlib's regex parser (no stubs)
from typing import Any

_BY_FORMAT = {
    "date-time": "2026-12-06T10:00:00Z",
    "date": "2026-12-06",
    "time": "10:00:00",
    "email": "kansli@petanque.se",
    "uri": "https://www.petanque.se/",
    "binary": None,
    "uuid": "3fa85f64-5717-4562-b3fc-2c963f66afa6",
    "duration": "P1D",
}
_BY_TYPE: dict[str, Any] = {"string": "string", "integer": 1, "number": 1.0, "boolean": True, "null": None}
MAX_DEPTH = 8


def matching(pattern: str) -> str | None:
    """The shortest plain string the regular expression matches, read from its parse tree (stdlib's own
    parser): literals, the first character of each class, the least repetitions. None when it cannot tell."""
    try:
        tree = re_parser.parse(pattern)
    except re.error:
        return None

    def build(items: Any) -> str:
        out = []
        for op, arg in items:
            name = str(op)
            if name == "LITERAL":
                out.append(chr(arg))
            elif name == "IN":
                out.append(first_of(arg))
            elif name == "ANY":
                out.append("a")
            elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
                low, _, sub = arg
                out.append(build(sub) * max(low, 0))
            elif name in ("SUBPATTERN", "ATOMIC_GROUP"):
                out.append(build(arg[-1]))
            elif name == "BRANCH":
                out.append(build(arg[1][0]))
            elif name == "CATEGORY":
                out.append(_CATEGORY.get(str(arg), "a"))
            elif name in ("AT", "ASSERT", "ASSERT_NOT"):
                continue
            else:
                raise ValueError(name)
        return "".join(out)

    def first_of(items: Any) -> str:
        for op, arg in items:
            name = str(op)
            if name == "LITERAL":
                return chr(arg)
            if name == "RANGE":
                return chr(arg[0])
            if name == "CATEGORY":
                return _CATEGORY.get(str(arg), "a")
        raise ValueError("negated class")

    try:
        found = build(tree)
    except ValueError:
        return None
    return found if re.fullmatch(pattern, found) else None


_CATEGORY = {"CATEGORY_DIGIT": "0", "CATEGORY_WORD": "a", "CATEGORY_SPACE": " ", "CATEGORY_NOT_SPACE": "a"}


def example(schema: Any, spec: dict[str, Any], depth: int = 0, seen: frozenset[str] = frozenset()) -> Any:
    if not isinstance(schema, dict) or depth > MAX_DEPTH:
        return None
    if "$ref" in schema:
        ref = schema["$ref"]
        if ref in seen:
            return None  # a recursive model: stop here
        target = spec
        for part in ref.removeprefix("#/").split("/"):
            target = target.get(part, {})
        return example({**target, **{k: v for k, v in schema.items() if k != "$ref"}}, spec, depth, seen | {ref})
    for key in ("example", "const"):
        if key in schema:
            return schema[key]
    if schema.get("examples"):
        return schema["examples"][0]
    if "default" in schema and schema["default"] is not None:
        return schema["default"]
    if schema.get("enum"):
        return schema["enum"][0]
    for key in ("oneOf", "anyOf"):
        if key in schema:
            options = [o for o in schema[key] if o.get("type") != "null"] or schema[key]
            return example(options[0], spec, depth + 1, seen)
    if "allOf" in schema:
        merged: dict[str, Any] = {}
        for part in schema["allOf"]:
            value = example(part, spec, depth + 1, seen)
            if isinstance(value, dict):
                merged.update(value)
        return merged
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object" or "properties" in schema or "additionalProperties" in schema:
        required = set(schema.get("required", []))
        props = schema.get("properties", {})
        out = {}
        for name, prop in props.items():
            if name in required or "examples" in prop or "example" in prop:
                out[name] = example(prop, spec, depth + 1, seen)
        for pattern, sub in list(schema.get("patternProperties", {}).items())[:1]:
            if not props:
                out[matching(pattern) or "name"] = example(sub, spec, depth + 1, seen)
        if not props and isinstance(schema.get("additionalProperties"), dict):
            names = schema.get("propertyNames", {})
            key = (names.get("enum") or [None])[0] or matching(names.get("pattern", "")) or "name"
            out[key] = example(schema["additionalProperties"], spec, depth + 1, seen)
        return out
    if kind == "array":
        item = example(schema.get("items", {}), spec, depth + 1, seen)
        return [] if item is None else [item] * max(1, schema.get("minItems", 1))
    if kind == "string":
        if schema.get("format") in _BY_FORMAT:
            return _BY_FORMAT[schema["format"]]
        if "pattern" in schema and (found := matching(schema["pattern"])) is not None:
            return found
        length = schema.get("minLength", 0)
        return "string".ljust(length, "x") if length > 6 else "string"
    if kind in ("integer", "number"):
        low: float = schema.get("minimum") or schema.get("exclusiveMinimum") or 0
        return int(low) + 1 if kind == "integer" else float(low) + 1.0
    return _BY_TYPE.get(str(kind))


def exemplified(spec: dict[str, Any]) -> dict[str, Any]:
    """Every request body and 2xx JSON response without an example gets one made from its schema."""
    for operations in spec.get("paths", {}).values():
        for operation in operations.values():
            bodies = [operation.get("requestBody", {})]
            bodies += [r for code, r in operation.get("responses", {}).items() if str(code).startswith("2")]
            for body in bodies:
                for media, content in body.get("content", {}).items():
                    if "json" not in media or "example" in content or "examples" in content or "schema" not in content:
                        continue
                    content["example"] = example(content["schema"], spec)
    return spec
