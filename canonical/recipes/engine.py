"""Runs a recipe: each rule is compiled once into a small function, so a row costs a few calls per field and
one pydantic validation. A row gives either a canonical record or its errors, each naming the source column,
the value and what is wrong with it (what the import's error report lists)."""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from pydantic import ValidationError

from canonical.fields import Canonical
from canonical.recipes.recipe import Recipe, Rule

_EMPTY = object()


@dataclass(frozen=True)
class CellError:
    column: str
    value: str
    message: str


class RowRejected(Exception):
    def __init__(self, errors: list[CellError]) -> None:
        super().__init__("; ".join(f"{e.column}: {e.message}" for e in errors))
        self.errors = errors


Step = Callable[[Any], Any]


def _lookup(path: str) -> Callable[[Mapping[str, Any]], Any]:
    if "." not in path:
        return lambda row: row.get(path)
    parts = path.split(".")

    def walk(row: Mapping[str, Any]) -> Any:
        value: Any = row
        for part in parts:
            value = value.get(part) if isinstance(value, Mapping) else None
        return value

    return walk


def _split(sep: str, take: str) -> Step:
    def split(value: str) -> str:
        words = [w for w in value.split(sep) if w] if sep == " " else [w.strip() for w in value.split(sep)]
        if take == "first":
            return words[0] if words else ""
        if take == "last":
            return words[-1] if words else ""
        if take == "rest":
            return sep.join(words[1:])
        if take == "init":
            return sep.join(words[:-1])
        upper = [w for w in words if w.isupper()]
        return " ".join(upper if take == "upper" else [w for w in words if not w.isupper()])

    return split


def _number(decimal_comma: bool, minor_units: bool) -> Step:
    def number(value: str) -> Any:
        text = value.replace(" ", "").replace("\u00a0", "")
        if decimal_comma:
            text = text.replace(".", "").replace(",", ".")
        amount = float(text)
        return round(amount * 100) if minor_units else amount

    return number


class Field:
    """One canonical field's compiled rule."""

    def __init__(self, name: str, rule: Rule) -> None:
        self.name = name
        self.columns = [rule.source] if isinstance(rule.source, str) else list(rule.source or [])
        self.column = ", ".join(self.columns) or "(constant)"
        self.const = rule.const
        self.default = rule.default
        self.getters = [_lookup(c) for c in self.columns]
        self.join = rule.join
        self.each = {k: Field(k, r) for k, r in rule.each.items()} if rule.each else None
        steps: list[tuple[str, Step]] = []
        if rule.split:
            steps.append(("split", _split(rule.split.sep, rule.split.take)))
        if rule.case:
            steps.append(("case", {"upper": str.upper, "lower": str.lower, "title": str.title}[rule.case]))
        for pattern, replacement in rule.replace:

            def substitute(value: str, regex: re.Pattern[str] = re.compile(pattern), to: str = replacement) -> str:
                return regex.sub(to, value)

            steps.append(("replace", substitute))
        if rule.pattern:
            compiled = re.compile(rule.pattern)

            def match(value: str, compiled: re.Pattern[str] = compiled) -> str:
                if not compiled.fullmatch(value):
                    raise ValueError(f"does not match {compiled.pattern}")
                return value

            steps.append(("pattern", match))
        if rule.values is not None:
            table, other = rule.values, rule.other

            def mapped(value: str) -> Any:
                if value in table:
                    return table[value]
                if other == "keep":
                    return value
                if other == "empty":
                    return _EMPTY
                raise ValueError(f"not one of {sorted(table)}")

            steps.append(("values", mapped))
        if rule.date_format:
            steps.append(("date", _day(rule.date_format)))
        if rule.decimal_comma or rule.minor_units:
            steps.append(("number", _number(rule.decimal_comma, rule.minor_units)))
        self.steps = steps
        self.strip = rule.strip

        self.read: Callable[[Mapping[str, Any]], Any] = self._compiled()

    def _compiled(self) -> Callable[[Mapping[str, Any]], Any]:
        """The rule as one closure: a row costs a dict lookup and the steps it has, no branching on the rule."""
        const, steps, strip = self.const, tuple(step for _, step in self.steps), self.strip
        default = _EMPTY if self.default is None else self.default
        if const is not None:
            return lambda row: const
        if self.each is not None:
            items_of, each = self.getters[0], list(self.each.values())

            def read_each(row: Mapping[str, Any]) -> Any:
                return [{f.name: v for f in each if (v := f.read(item)) is not _EMPTY} for item in items_of(row) or []]

            return read_each
        get: Callable[[Mapping[str, Any]], Any]
        if len(self.columns) == 1 and "." not in self.columns[0]:
            get = operator.methodcaller("get", self.columns[0])  # a C call: no Python frame per cell
        elif len(self.columns) == 1:
            get = self.getters[0]
        else:
            getters, join = self.getters, self.join

            def joined(row: Mapping[str, Any]) -> Any:
                return join.join(str(v).strip() for v in (g(row) for g in getters) if v not in (None, ""))

            get = joined

        def read(row: Mapping[str, Any]) -> Any:
            value = get(row)
            if value is None:
                return default
            if value.__class__ is not str:
                if not steps or isinstance(value, (dict, list)):
                    return value
                value = str(value)  # a JSON number or boolean through a value map, pattern or date step
            if strip:
                value = value.strip()
            if not value:
                return default
            for step in steps:
                value = step(value)
                if value is _EMPTY:
                    return _EMPTY
            return value

        return read


def _day(fmt: str) -> Step:
    """A date parser for `fmt`: day, month and four-digit year with one separator (the legacy files' forms) are
    split by hand, five times faster than strptime; any other format goes to strptime."""
    parts = re.fullmatch(r"%([dmY])([./-])%([dmY])\2%([dmY])", fmt)
    if parts is None or sorted(parts.group(1, 3, 4)) != ["Y", "d", "m"]:
        return lambda value: datetime.strptime(value, fmt).date()
    sep, order = parts.group(2), (parts.group(1), parts.group(3), parts.group(4))
    width = {"d": 2, "m": 2, "Y": 4}

    widths = tuple(width[k] for k in order)
    y, m, d = order.index("Y"), order.index("m"), order.index("d")

    def day(value: str) -> date:
        pieces = value.split(sep)
        if len(value) != 10 or len(pieces) != 3 or tuple(map(len, pieces)) != widths or not value.replace(sep, "").isdigit():
            raise ValueError(f"{value!r} is not a date in the form {fmt}")
        return date(int(pieces[y]), int(pieces[m]), int(pieces[d]))  # raises ValueError for 31/02

    return day


class Mapper:
    """A recipe, compiled: `map(row)` gives the canonical record or raises RowRejected."""

    def __init__(self, recipe: Recipe) -> None:
        self.recipe = recipe
        self.model: type[Canonical] = recipe.entry.model
        self.fields = [Field(name, rule) for name, rule in recipe.fields.items()]
        self.by_name = {f.name: f for f in self.fields}

    def values(self, row: Mapping[str, Any]) -> dict[str, Any]:
        # The common case in one pass with no handler per field; a row with a bad cell is read again field by
        # field, so that every bad cell is reported, not only the first.
        try:
            return {f.name: v for f in self.fields if (v := f.read(row)) is not _EMPTY}
        except (ValueError, TypeError):
            pass
        errors: list[CellError] = []
        for field in self.fields:
            try:
                field.read(row)
            except (ValueError, TypeError) as exc:
                errors.append(CellError(field.column, _raw(row, field), str(exc)))
        raise RowRejected(errors)

    def map(self, row: Mapping[str, Any]) -> Canonical:
        values = self.values(row)
        try:
            return self.model.model_validate(values)
        except ValidationError as exc:
            raise RowRejected([self._cell(row, e) for e in exc.errors()]) from None

    def _cell(self, row: Mapping[str, Any], error: Any) -> CellError:
        name = str(error["loc"][0]) if error["loc"] else ""
        field = self.by_name.get(name)
        if field is None:
            return CellError(name or "(row)", "", f"{name}: {error['msg']}" if name else error["msg"])
        return CellError(field.column, _raw(row, field), f"{name}: {error['msg']}")


def _raw(row: Mapping[str, Any], field: Field) -> str:
    return " | ".join(str(g(row) or "") for g in field.getters)[:200]
