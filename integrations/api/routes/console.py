"""The tenant console (issue #24): a browser app under /console, served by the same Functions app from files
in integrations/console/ (its libraries vendored from npm packages pinned in package-lock.json: no CDN). It
calls only the public API, with the signed-in user's credential, so it proves the API suffices and a tenant
portal can embed or replace it. Its own responses carry a strict Content-Security-Policy: scripts, styles
and connections from this origin only (plus Entra ID's when sign-in goes there), no inline code, no framing."""

from __future__ import annotations

import json
from pathlib import Path as FilePath
from typing import Annotated, Any

from fastapi import APIRouter, Path
from fastapi.responses import RedirectResponse, Response

from integrations.api.deps import SettingsDep
from shared.errors import NotFound

ROOT = FilePath(__file__).resolve().parents[2] / "console"
TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".png": "image/png",
    ".svg": "image/svg+xml",
}
router = APIRouter(include_in_schema=False)
AssetPath = Annotated[str, Path(pattern=r"^[A-Za-z0-9_./-]{1,200}$")]


def csp(entra_authority: str | None) -> str:
    connect = "'self'" + (f" https://{entra_authority.split('/')[2]}" if entra_authority else "")
    return "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "font-src 'self'",
            f"connect-src {connect}",
            "frame-src 'none'" if not entra_authority else f"frame-src https://{entra_authority.split('/')[2]}",
            "frame-ancestors 'none'",
            "base-uri 'none'",
            "form-action 'self'",
        ]
    )


def _file(relative: str, entra_authority: str | None) -> Response:
    target = (ROOT / relative).resolve()
    if not target.is_relative_to(ROOT) or not target.is_file() or target.suffix not in TYPES:
        raise NotFound("No such console file.")
    headers = {
        "Content-Security-Policy": csp(entra_authority),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-cache",  # small files; a new deployment must not mix versions
    }
    return Response(target.read_bytes(), media_type=TYPES[target.suffix], headers=headers)


@router.get("/console")
def console_root() -> Any:
    return RedirectResponse("/console/", status_code=308)


@router.get("/console/")
def console_index(settings: SettingsDep) -> Any:
    return _file("index.html", settings.console_entra_authority if settings.console_entra_client_id else None)


@router.get("/console/config.json")
def console_config(settings: SettingsDep) -> Any:
    """What the browser app needs to know before anyone signs in: whether Entra ID sign-in is configured."""
    entra = (
        {
            "client_id": settings.console_entra_client_id,
            "authority": settings.console_entra_authority,
            "scopes": settings.console_entra_scopes.split(),
        }
        if settings.console_entra_client_id
        else None
    )
    body = json.dumps({"entra": entra, "languages": sorted(p.stem for p in (ROOT / "i18n").glob("*.json"))})
    return Response(body, media_type="application/json", headers={"Cache-Control": "no-store"})


@router.get("/console/{asset:path}")
def console_asset(asset: AssetPath, settings: SettingsDep) -> Any:
    return _file(asset, settings.console_entra_authority if settings.console_entra_client_id else None)
