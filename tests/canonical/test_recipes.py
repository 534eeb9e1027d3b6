"""The shipped mapping recipes: each maps its (constructed) sample without an error, the legacy ones account
for ≥ 90 % of their format's fields, and a recipe that does not fit its model fails when it is loaded."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from canonical.recipes.coverage import TARGET, coverage
from canonical.recipes.engine import Mapper, RowRejected
from canonical.recipes.reader import read_csv
from canonical.recipes.recipe import RECIPES, Recipe, shipped
from shared.csv_cells import csv_bytes, safe_cell
from tools import recipes as recipes_tool


def sample_rows(recipe: Recipe) -> list[dict[str, object]]:
    path = RECIPES / recipe.source.sample
    if recipe.source.format == "json":
        return list(json.loads(path.read_text()))
    with path.open("rb") as f:
        found = read_csv(f, delimiter=recipe.source.delimiter, declared=None, usual=recipe.source.encoding,
                         expected=recipe.source.fields, required=[])  # fmt: skip
        assert found.unknown_columns == []
        return [row for _, row, why in found.rows if row is not None and not why]


@pytest.mark.parametrize("name", sorted(shipped()))
def test_each_recipe_maps_its_sample_completely(name: str) -> None:
    recipe = shipped()[name]
    rows = sample_rows(recipe)
    assert len(rows) >= 3
    mapper = Mapper(recipe)
    records = [mapper.map(row) for row in rows]  # raises RowRejected on any row
    filled = {f for r in records for f in r.model_fields_set}
    assert filled == set(recipe.fields), f"{name}: fields the sample never fills: {set(recipe.fields) - filled}"
    assert recipe.source.constructed_sample  # no real export is public: said so in the recipe
    c = coverage(recipe)
    assert c.unaccounted == () or recipe.kind == "provider"
    if recipe.kind == "legacy":
        assert c.source_share >= TARGET and c.canonical_share >= TARGET, c


def test_the_legacy_recipes_are_the_three_federation_files() -> None:
    legacy = {n for n, r in shipped().items() if r.kind == "legacy"}
    assert legacy == {"ffpjp_members", "fib_export", "dpv_members"}
    assert recipes_tool.main(["coverage"]) == 0


def test_a_recipe_that_does_not_fit_its_model_fails_at_load(tmp_path: Path) -> None:
    base = yaml.safe_load((RECIPES / "dpv_members.yaml").read_text(encoding="utf-8"))
    cases = {
        "shoe_size": lambda r: r["fields"].update(shoe_size={"from": "Name"}),
        "not among source.fields": lambda r: r["fields"].update(city={"from": "Stadt"}),
        "does not take": lambda r: r["fields"]["gender"]["values"].update(x="alien"),
        "both mapped and ignored": lambda r: r["ignore"].update(Ort="twice"),
    }
    for expected, change in cases.items():
        recipe = json.loads(json.dumps(base))
        change(recipe)
        with pytest.raises(ValueError, match=expected):
            Recipe.model_validate(recipe)


def test_cells_are_checked_and_reported_by_their_source_column() -> None:
    mapper = Mapper(shipped()["dpv_members"])
    row = dict.fromkeys(shipped()["dpv_members"].source.fields, "")
    row.update({"Lizenznummer": "51000x", "Name": "Müller, Hans", "Geburtsdatum": "1990-02-01", "Geschlecht": "m"})
    with pytest.raises(RowRejected) as caught:
        mapper.map(row)
    columns = {e.column for e in caught.value.errors}
    assert columns == {"Lizenznummer", "Geburtsdatum"}


def test_exported_cells_cannot_run_as_formulas() -> None:
    assert safe_cell('=HYPERLINK("http://x")') == '\'=HYPERLINK("http://x")'
    assert [safe_cell(v) for v in ("+1", "-3.5", "@SUM(A1)", "\tx", "plain")] == ["+1", "-3.5", "'@SUM(A1)", "'\tx", "plain"]
    assert csv_bytes(["a"], [["=1+1"]]).decode("utf-8-sig") == "a\r\n'=1+1\r\n"
