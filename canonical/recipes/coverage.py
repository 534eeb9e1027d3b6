"""How much of a source format a recipe accounts for (its fields mapped, or ignored with a reason) and how
much of the canonical model it fills. Shipped legacy recipes must account for ≥ 90 % of their format's fields
(the suite asserts it; `python -m tools.recipes coverage` prints the table the README carries)."""

from __future__ import annotations

from dataclasses import dataclass

from canonical.recipes.recipe import Recipe

TARGET = 0.90


@dataclass(frozen=True)
class Coverage:
    recipe: str
    model: str
    kind: str
    source_fields: int
    mapped: int
    ignored: int
    canonical_fields: int
    filled: int
    unaccounted: tuple[str, ...]

    @property
    def source_share(self) -> float:
        return (self.mapped + self.ignored) / self.source_fields

    @property
    def canonical_share(self) -> float:
        return self.filled / self.canonical_fields


def coverage(recipe: Recipe) -> Coverage:
    used = {s.split("[]")[0].split(".")[0] for rule in recipe.fields.values() for s in rule.sources()}
    listed = recipe.source.fields
    mapped = [f for f in listed if f in used]
    ignored = [f for f in listed if f in recipe.ignore]
    return Coverage(
        recipe=recipe.recipe,
        model=recipe.model,
        kind=recipe.kind,
        source_fields=len(listed),
        mapped=len(mapped),
        ignored=len(ignored),
        canonical_fields=len(recipe.entry.model.model_fields),
        filled=len(recipe.fields),
        unaccounted=tuple(f for f in listed if f not in used and f not in recipe.ignore),
    )


def table(rows: list[Coverage]) -> str:
    """The Markdown table (README)."""
    lines = [
        "| recipe | kind | model | source fields | mapped | ignored | source coverage | canonical fields filled |",
        "|---|---|---|---:|---:|---:|---:|---:|",
    ]
    for c in rows:
        lines.append(
            f"| {c.recipe} | {c.kind} | {c.model} | {c.source_fields} | {c.mapped} | {c.ignored} | "
            f"{c.source_share:.0%} | {c.filled}/{c.canonical_fields} ({c.canonical_share:.0%}) |"
        )
    return "\n".join(lines)
