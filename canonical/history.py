"""Field-level change history of the canonical models, generated from the committed schema releases
(canonical/releases/<release>.json, written by `python -m tools.models release X.Y.Z`) and the code: each
release is diffed against the one before, and the current code against the latest as `unreleased`. Nothing
here is written by hand."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from canonical.catalog import MODELS

RELEASES = Path(__file__).parent / "releases"
_DOC_KEYS = frozenset({"description", "examples", "title", "x-owner", "x-unit", "default"})


@dataclass(frozen=True)
class FieldChange:
    release: str
    version: str  # the model's version in that release
    field: str  # "" for the model as a whole
    change: str  # added | removed | type | required | optional | description | owner | unit | default | introduced
    before: Any = None
    after: Any = None


def snapshot() -> dict[str, Any]:
    """The current models as one release file's content."""
    return {name: {"version": e.version, "schema": e.schema()} for name, e in sorted(MODELS.items())}


def releases() -> list[tuple[str, dict[str, Any]]]:
    """Committed releases, oldest first."""
    found = [(p.stem, json.loads(p.read_text())) for p in RELEASES.glob("*.json")]
    return sorted(found, key=lambda r: tuple(int(x) for x in r[0].split(".")))


def _shape(prop: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in prop.items() if k not in _DOC_KEYS}


def diff_model(release: str, old: dict[str, Any] | None, new: dict[str, Any] | None) -> list[FieldChange]:
    """What changed in one model between two snapshots of it ({"version", "schema"})."""
    if new is None:
        return [FieldChange(release, old["version"] if old else "", "", "removed")]
    version = new["version"]
    if old is None:
        return [FieldChange(release, version, "", "introduced", after=sorted(new["schema"].get("properties", {})))]
    before, after = old["schema"], new["schema"]
    props_b, props_a = before.get("properties", {}), after.get("properties", {})
    req_b, req_a = set(before.get("required", [])), set(after.get("required", []))
    changes: list[FieldChange] = []
    for name in sorted(props_b.keys() | props_a.keys()):
        b, a = props_b.get(name), props_a.get(name)
        if b is None:
            changes.append(FieldChange(release, version, name, "added", after=_shape(a or {})))
            continue
        if a is None:
            changes.append(FieldChange(release, version, name, "removed", before=_shape(b)))
            continue
        if _shape(b) != _shape(a):
            changes.append(FieldChange(release, version, name, "type", _shape(b), _shape(a)))
        if (name in req_b) != (name in req_a):
            changes.append(FieldChange(release, version, name, "required" if name in req_a else "optional"))
        for key, word in (("description", "description"), ("x-owner", "owner"), ("x-unit", "unit"), ("default", "default")):
            if b.get(key) != a.get(key):
                changes.append(FieldChange(release, version, name, word, b.get(key), a.get(key)))
    if before.get("$defs") != after.get("$defs"):
        changes.append(FieldChange(release, version, "", "type", "nested definitions changed", None))
    return changes


def changes(name: str) -> list[FieldChange]:
    """The model's history, oldest first, ending with what the code changed since the latest release."""
    out: list[FieldChange] = []
    previous: dict[str, Any] | None = None
    last = ""
    for release, models in releases():
        current = models.get(name)
        if current is not None or previous is not None:
            out += diff_model(release, previous, current)
        previous, last = current, release
    now = snapshot().get(name)
    if previous != now:
        out += diff_model(f"unreleased (after {last})" if last else "unreleased", previous, now)
    return out


def _shape_only(node: Any) -> Any:
    """A schema without its documentation (descriptions, examples, titles, owner, unit): what a version guards."""
    if isinstance(node, dict):
        return {k: _shape_only(v) for k, v in node.items() if k not in _DOC_KEYS - {"default"}}
    if isinstance(node, list):
        return [_shape_only(v) for v in node]
    return node


def unversioned_changes() -> list[str]:
    """Models whose shape differs from the latest release while their version does not: the suite refuses them.
    Documentation may improve without a new version (the history still lists it)."""
    history = releases()
    if not history:
        return []
    latest = history[-1][1]
    return [
        name
        for name, now in snapshot().items()
        if name in latest
        and _shape_only(latest[name]["schema"]) != _shape_only(now["schema"])
        and latest[name]["version"] == now["version"]
    ]
