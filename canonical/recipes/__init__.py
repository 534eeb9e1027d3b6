"""Mapping recipes: declarative files (YAML, schema-validated by `recipe.Recipe`) that map a source format — a
legacy federation's member file, a provider's JSON object — onto a canonical model. `engine` runs them row by
row; `reader` streams CSV in constant memory; `coverage` measures how much of each format they account for."""
