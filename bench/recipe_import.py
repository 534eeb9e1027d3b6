"""File imports (issue #22), same run, same file:

- throughput: rows/s of the hub's import (a dry run through `Importer`: encoding detection, the streaming
  reader, the FFPJP recipe's renames, value maps, date formats, phone rewriting, per-row validation against
  the canonical Member, duplicate-key detection, progress saved once a second) vs a plain `csv.DictReader`
  + pydantic loop over the same 100k-row file that does the same mapping by hand into the same Member.
  Target ≥ 0.7×.
- memory: peak RSS of a whole import process for 100k rows vs 10k rows (each in a fresh process). Target
  ≤ 1.2×: the import streams, so the row count must not show in memory.
"""

from __future__ import annotations

import csv
import re
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

from bench.common import fresh_hub, row
from canonical.people import Member
from canonical.recipes.recipe import RECIPES, shipped
from integrations.documents.ref import IntegrationRef
from integrations.imports.run import Importer, Upload, digest
from integrations.service import create_integration

ROWS = 100_000
SMALL = 10_000


def write_file(path: Path, rows: int) -> None:
    """`rows` data rows cycling through the FFPJP sample's rows, each with its own licence number."""
    sample = (RECIPES / "samples" / "ffpjp_members.csv").read_bytes().decode("cp1252").split("\r\n")
    header, body = sample[0], [line for line in sample[1:] if line]
    with path.open("w", encoding="cp1252", newline="") as f:
        f.write(header + "\r\n")
        for i in range(rows):
            cells = body[i % len(body)].split(";")
            cells[0] = f"{20_000_000 + i:08d}"
            f.write(";".join(cells) + "\r\n")


def importer_for(conn: str) -> tuple[Importer, str]:
    """A hub's importer and a draft integration to import into (set up once, outside the timing)."""
    hub = fresh_hub(conn)
    body = {"family": "lms", "provider": "cornerstone", "display_name": "Bench"}
    doc = create_integration("bench-imp", body, repo=hub.integrations, actor="bench", now=hub.now).document
    return hub.importer, doc.id


def hub_import(importer: Importer, integration_id: str, path: Path) -> int:
    with path.open("rb") as f:
        sha, size = digest(f)
        upload = Upload(f, path.name, size, sha)
        job, found = importer.run(IntegrationRef("bench-imp", integration_id), "ffpjp_members", upload, dry_run=True)
    assert job.rejected == 0 and not found, job
    return job.accepted


def plain_loop(path: Path) -> int:
    """What an integrator writes without recipes: DictReader, the same renames, value maps, dates and phone
    rewriting by hand, and the same canonical Member validated by pydantic."""
    maps = {name: rule.values or {} for name, rule in shipped()["ffpjp_members"].fields.items()}
    spaces, trunk = re.compile("[ .]"), re.compile("^0")
    n = 0
    with path.open(encoding="cp1252", newline="") as f:
        for row in csv.DictReader(f, delimiter=";"):
            Member.model_validate(
                {
                    "member_id": row["N° Licence"],
                    "licence_number": row["N° Licence"],
                    "last_name": row["Nom"].strip().title(),
                    "first_name": row["Prénom"].strip(),
                    "gender": maps["gender"][row["Sexe"]],
                    "birth_date": datetime.strptime(row["Date de naissance"], "%d/%m/%Y").date(),
                    "nationality": maps["nationality"][row["Nationalité"]],
                    "licence_category": maps["licence_category"][row["Catégorie"]],
                    "club_id": row["N° Club"],
                    "street": row["Adresse"].strip(),
                    "postal_code": row["Code postal"],
                    "city": row["Ville"].strip(),
                    "country": "FR",
                    "phone": trunk.sub("+33", spaces.sub("", row["Téléphone"])),
                    "email": row["Email"].strip().lower(),
                    "joined_on": datetime.strptime(row["Date 1ère licence"], "%d/%m/%Y").date(),
                    "membership_status": maps["membership_status"][row["Statut"]],
                }
            )
            n += 1
    return n


def _rss_of(conn: str, path: Path) -> int:
    out = subprocess.run(
        [sys.executable, "-m", "bench.recipe_import", "--rss", conn, str(path)], capture_output=True, text=True, check=True
    )
    return int(out.stdout.strip().splitlines()[-1])


def run(conn: str) -> list[dict[str, object]]:
    with tempfile.TemporaryDirectory() as tmp:
        big, small = Path(tmp) / "big.csv", Path(tmp) / "small.csv"
        write_file(big, ROWS)
        write_file(small, SMALL)
        importer, integration_id = importer_for(conn)
        timings: dict[str, list[float]] = {"hub": [], "plain": []}
        for round_ in range(3):  # alternate, so drift hits both alike; best of three each
            for name in ("plain", "hub"):
                # each hub round imports a file of its own bytes (a same file would be found, not run again)
                big.write_bytes(big.read_bytes().rstrip(b"\r\n") + b"\r\n" * (round_ + 1))
                t = time.perf_counter()
                assert (plain_loop(big) if name == "plain" else hub_import(importer, integration_id, big)) == ROWS
                timings[name].append(time.perf_counter() - t)
        hub_s, plain_s = min(timings["hub"]), min(timings["plain"])
        rss_big, rss_small = _rss_of(conn, big), _rss_of(conn, small)
    ratio = plain_s / hub_s  # rows/s of the hub over rows/s of the plain loop
    return [
        row(
            "import 100k rows through a recipe (rows/s)",
            f"{ROWS / plain_s:,.0f} rows/s (hand-mapped DictReader + pydantic)",
            f"{ROWS / hub_s:,.0f} rows/s",
            f"{ratio:.2f}",
            "≥ 0.7",
            "dry run: recipe, canonical validation, duplicate keys, progress saves",
        ),
        row(
            "import peak RSS, 100k vs 10k rows",
            f"{rss_small / 1024:.0f} MiB (10k)",
            f"{rss_big / 1024:.0f} MiB (100k)",
            f"{rss_big / rss_small:.2f}",
            "≤ 1.2",
            "each in a fresh process; the file streams",
        ),
    ]


if __name__ == "__main__" and sys.argv[1:2] == ["--rss"]:
    hub_import(*importer_for(sys.argv[2]), Path(sys.argv[3]))
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)  # KiB on Linux
