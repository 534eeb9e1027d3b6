"""The API contract: `snapshot` writes openapi/v1.json from the code, `check` fails when they differ, and
`diff OLD NEW` classifies every change as breaking or not (exit 1 on breaking changes without a major
version bump). `diff` takes files or release versions (`diff 1.0.0 current`).

Releases are tagged specs, `openapi/releases/<info.version>.json`, written by `release` (never overwritten).
`gate` (a test runs it) fails when the current spec breaks the latest release without a major version: a
breaking change waits for the next major, or goes through a deprecation first.

    python -m tools.openapi snapshot | check | diff OLD NEW | release | gate | changelog
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SNAPSHOT = ROOT / "openapi" / "v1.json"
RELEASES = ROOT / "openapi" / "releases"
METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


def current_spec() -> dict[str, Any]:
    from integrations.api.app import create_api

    return create_api(max_body=1).openapi()


def dump(spec: dict[str, Any]) -> str:
    return json.dumps(spec, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


@dataclass(frozen=True)
class Change:
    breaking: bool
    where: str
    what: str

    def __str__(self) -> str:
        return f"{'BREAKING' if self.breaking else 'ok      '} {self.where}: {self.what}"


class Differ:
    def __init__(self, old: dict[str, Any], new: dict[str, Any]) -> None:
        self.old, self.new = old, new
        self.changes: list[Change] = []

    def _resolve(self, spec: dict[str, Any], schema: Any, seen: frozenset[str] = frozenset()) -> Any:
        if isinstance(schema, dict) and "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[-1]
            if name in seen:
                return {"x-recursive": name}
            return self._resolve(spec, spec["components"]["schemas"][name], seen | {name})
        return schema

    def add(self, breaking: bool, where: str, what: str) -> None:
        self.changes.append(Change(breaking, where, what))

    def run(self) -> list[Change]:
        for path, item in self.old.get("paths", {}).items():
            if path not in self.new.get("paths", {}):
                self.add(True, path, "path removed")
                continue
            for method in METHODS:
                if method not in item:
                    continue
                where = f"{method.upper()} {path}"
                new_op = self.new["paths"][path].get(method)
                if new_op is None:
                    self.add(True, where, "operation removed")
                    continue
                self.operation(where, item[method], new_op)
        for path, item in self.new.get("paths", {}).items():
            for method in METHODS:
                if method in item and method not in self.old.get("paths", {}).get(path, {}):
                    self.add(False, f"{method.upper()} {path}", "operation added")
        return self.changes

    def operation(self, where: str, old: dict[str, Any], new: dict[str, Any]) -> None:
        if old.get("operationId") != new.get("operationId"):
            self.add(True, where, f"operationId {old.get('operationId')} → {new.get('operationId')}")
        if old.get("security") != new.get("security"):
            # Each requirement is an alternative: a client holding what an old one asked is still served when
            # the new list keeps it (alternatives added widen access). Removing or narrowing one breaks clients.
            def alternatives(op: dict[str, Any]) -> set[tuple[tuple[str, frozenset[str]], ...]]:
                return {tuple(sorted((k, frozenset(v)) for k, v in r.items())) for r in op.get("security", [])}

            kept = alternatives(old) <= alternatives(new)
            self.add(not kept, where, "security alternatives added" if kept else "security requirements changed")
        old_params = {(p["name"], p["in"]): p for p in old.get("parameters", [])}
        new_params = {(p["name"], p["in"]): p for p in new.get("parameters", [])}
        for key, p in new_params.items():
            if key not in old_params and p.get("required"):
                self.add(True, where, f"new required parameter {key[1]}:{key[0]}")
            elif key not in old_params:
                self.add(False, where, f"new optional parameter {key[1]}:{key[0]}")
        for key, p in old_params.items():
            if key not in new_params:
                self.add(True, where, f"parameter {key[1]}:{key[0]} removed")
            else:
                self.schema(f"{where} parameter {key[0]}", p.get("schema", {}), new_params[key].get("schema", {}), "request")
        old_body = old.get("requestBody", {}).get("content", {})
        new_body = new.get("requestBody", {}).get("content", {})
        for ctype, media in old_body.items():
            if ctype not in new_body:
                self.add(True, where, f"request media type {ctype} removed")
            else:
                self.schema(f"{where} body", media.get("schema", {}), new_body[ctype].get("schema", {}), "request")
        for status, response in old.get("responses", {}).items():
            new_response = new.get("responses", {}).get(status)
            if new_response is None:
                self.add(True, where, f"response {status} removed")
                continue
            for ctype, media in response.get("content", {}).items():
                new_media = new_response.get("content", {}).get(ctype)
                if new_media is None:
                    self.add(True, where, f"response {status} {ctype} removed")
                else:
                    self.schema(f"{where} → {status}", media.get("schema", {}), new_media.get("schema", {}), "response")

    def schema(self, where: str, old: Any, new: Any, direction: str, depth: int = 0) -> None:
        if depth > 12:
            return
        old, new = self._resolve(self.old, old), self._resolve(self.new, new)
        if not isinstance(old, dict) or not isinstance(new, dict):
            return
        if old.get("type") != new.get("type") and "type" in old:
            self.add(True, where, f"type {old.get('type')} → {new.get('type')}")
        old_enum, new_enum = set(map(str, old.get("enum", []))), set(map(str, new.get("enum", [])))
        if old_enum and new_enum:
            if direction == "request" and old_enum - new_enum:
                self.add(True, where, f"enum narrowed: {sorted(old_enum - new_enum)} removed")
            if direction == "response" and new_enum - old_enum:
                self.add(False, where, f"enum widened: {sorted(new_enum - old_enum)} (clients must tolerate)")
        for union in ("oneOf", "anyOf", "allOf"):
            olds = {json.dumps(x, sort_keys=True): x for x in old.get(union, [])}
            news = {json.dumps(x, sort_keys=True): x for x in new.get(union, [])}
            if union != "allOf" and set(olds) - set(news):
                self.add(True, where, f"{union} alternatives removed")
            for key in set(olds) & set(news):  # the same alternative on both sides: compare inside it
                self.schema(f"{where}<{union}>", olds[key], news[key], direction, depth + 1)
        old_props, new_props = old.get("properties", {}), new.get("properties", {})
        old_req, new_req = set(old.get("required", [])), set(new.get("required", []))
        for name, schema in old_props.items():
            if name not in new_props:
                self.add(True, f"{where}.{name}", "field removed")
            else:
                self.schema(f"{where}.{name}", schema, new_props[name], direction, depth + 1)
        for name in new_props:
            if name not in old_props:
                required = direction == "request" and name in new_req
                self.add(required, f"{where}.{name}", "required field added" if required else "field added")
        if direction == "request":
            for name in (new_req - old_req) & set(old_props):
                self.add(True, f"{where}.{name}", "field became required")
        if "items" in old and "items" in new:
            self.schema(f"{where}[]", old["items"], new["items"], direction, depth + 1)


def major(spec: dict[str, Any]) -> int:
    return int(str(spec.get("info", {}).get("version", "0")).split(".")[0])


def diff(old: dict[str, Any], new: dict[str, Any]) -> tuple[list[Change], int]:
    changes = Differ(old, new).run()
    breaking = [c for c in changes if c.breaking]
    code = 1 if breaking and major(new) <= major(old) else 0
    return changes, code


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "check"
    if command == "snapshot":
        SNAPSHOT.parent.mkdir(exist_ok=True)
        SNAPSHOT.write_text(dump(current_spec()))
        print(f"wrote {SNAPSHOT.relative_to(ROOT)}")
        return 0
    if command == "check":
        if not SNAPSHOT.exists() or SNAPSHOT.read_text() != dump(current_spec()):
            changes, code = diff(json.loads(SNAPSHOT.read_text()) if SNAPSHOT.exists() else {}, current_spec())
            for c in changes:
                print(c)
            print("The code's OpenAPI differs from openapi/v1.json: review, then `python -m tools.openapi snapshot`.")
            return 1
        return 0
    if command == "release":
        spec = current_spec()
        target = RELEASES / f"{spec['info']['version']}.json"
        if target.exists():
            print(f"{target.relative_to(ROOT)} exists: releases are never rewritten (bump info.version).")
            return 1
        RELEASES.mkdir(parents=True, exist_ok=True)
        target.write_text(dump(spec))
        print(f"wrote {target.relative_to(ROOT)}")
        return 0
    if command == "gate":
        changes, code = gate()
        for c in changes:
            print(c)
        if code:
            print("The current spec breaks the latest release without a major version.")
        return code
    if command == "diff" and len(argv) == 3:
        changes, code = diff(spec_named(argv[1]), spec_named(argv[2]))
        for c in changes:
            print(c)
        if code:
            print("Breaking changes without a major version bump.")
        return code
    if command == "changelog":
        print(changelog())
        return 0
    print(__doc__)
    return 2


def _version_key(name: str) -> tuple[int, ...]:
    return tuple(int(part) for part in name.split("."))


def latest_release() -> dict[str, Any] | None:
    versions = sorted((p.stem for p in RELEASES.glob("*.json")), key=_version_key)
    return json.loads((RELEASES / f"{versions[-1]}.json").read_text()) if versions else None


def spec_named(name: str) -> dict[str, Any]:
    """A file, a release version (`1.0.0`), or `current` (the code's)."""
    if name == "current":
        return current_spec()
    release = RELEASES / f"{name}.json"
    spec: dict[str, Any] = json.loads((release if release.exists() else Path(name)).read_text())
    return spec


def gate() -> tuple[list[Change], int]:
    """The current spec against the latest release: exit 1 on a breaking change without a major version."""
    release = latest_release()
    return diff(release, current_spec()) if release is not None else ([], 0)


def changelog(limit: int = 50) -> str:
    """A Markdown changelog from the committed spec's git history: each commit's changes, classified."""
    import subprocess

    commits = subprocess.run(
        ["git", "log", f"-{limit}", "--format=%H %ad %s", "--date=short", "--", "openapi/v1.json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    lines = ["# API changelog (generated from openapi/v1.json history)", ""]
    for newer, older in zip(commits, commits[1:], strict=False):
        sha_new, date_, *subject = newer.split(" ")
        sha_old = older.split(" ")[0]

        def spec_at(sha: str) -> dict[str, Any]:
            spec: dict[str, Any] = json.loads(
                subprocess.run(
                    ["git", "show", f"{sha}:openapi/v1.json"], cwd=ROOT, capture_output=True, text=True, check=True
                ).stdout
            )
            return spec

        changes = Differ(spec_at(sha_old), spec_at(sha_new)).run()
        lines.append(f"## {date_} {sha_new[:8]} {' '.join(subject)}")
        lines += [f"- {c}" for c in changes] or ["- (no contract change)"]
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
