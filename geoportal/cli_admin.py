"""``geoportal token``, ``geoportal audit`` and ``geoportal upload``: administration commands.

Registered on the main command group by ``geoportal.cli``.
"""

from __future__ import annotations

import getpass
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from geoportal.admin.audit import AuditLog
from geoportal.admin.tokens import ROLES, Token, TokenStore
from geoportal.cleanup import GRACE_SECONDS, clean_up, upload_dir
from geoportal.progress import ProgressBar
from geoportal.reports import VersionReport
from geoportal.storage import open_store
from geoportal.storage.rasters import RasterStore
from geoportal.upload_client import token_from_env, upload_layer

__all__ = ["cli_client", "register"]


def cli_client() -> str:
    """Who runs the command, for the audit log's ``client``: ``cli:<login name>``."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry for this uid (containers)
        user = f"uid{os.getuid()}"
    return f"cli:{user}"


def scope_of(token: Token) -> str:
    """The regions a token may write to, in words."""
    return "all regions" if token.role == "admin" else ", ".join(token.regions)


def register(main: click.Group,
             handle_errors: Callable[[Callable[..., Any]], Callable[..., Any]]) -> None:
    """Add the admin commands to ``main``; ``handle_errors`` is the CLI's error wrapper."""

    @main.group("token")
    def token_group() -> None:
        """API tokens for regional admins (shown once, stored hashed)."""

    @token_group.command("create")
    @click.option("--name", required=True, help="Whose token this is, e.g. grodno-gis.")
    @click.option("--role", type=click.Choice(ROLES), default="editor", show_default=True)
    @click.option("--region", "regions", multiple=True,
                  help="SOATO code an editor may write to (repeat; an oblast covers its "
                       "raions and cities).")
    @click.option("--days", type=int, default=None, help="Expire after this many days.")
    @click.pass_obj
    @handle_errors
    def token_create(obj: Any, name: str, role: str, regions: tuple[str, ...],
                     days: int | None) -> None:
        """Create a token and print it once.

        \b
        Examples:
          geoportal token create --name grodno-gis --region 4000000000
          geoportal token create --name national --role admin --days 365
        """
        token, secret = TokenStore(obj.catalog.engine).create(
            name, role, regions, obj.registry, days=days)
        AuditLog(obj.catalog.engine).record(
            "token-create", "ok", token_id=token.id, client=cli_client(),
            region=token.regions[0] if len(token.regions) == 1 else None,
            detail=f"{token.role} token for {token.name}, regions {scope_of(token)}"
                   + (f", expires {token.expires:%Y-%m-%d}" if token.expires else ""))
        scope = scope_of(token)
        click.echo(f"token {token.id} ({token.role}, {scope}) for {token.name}; copy it now, "
                   "it is not shown again:", err=True)
        click.echo(secret)

    @token_group.command("list")
    @click.option("--json", "as_json", is_flag=True, help="Print JSON.")
    @click.pass_obj
    @handle_errors
    def token_list(obj: Any, as_json: bool) -> None:
        """List tokens (never their secrets)."""
        tokens = TokenStore(obj.catalog.engine).list()
        if as_json:
            click.echo(json.dumps([t.to_dict() for t in tokens], ensure_ascii=False, indent=2))
            return
        for t in tokens:
            scope = "*" if t.role == "admin" else ",".join(t.regions)
            used = f"{t.last_used:%Y-%m-%d %H:%M}" if t.last_used else "never used"
            click.echo(f"{t.id}  {t.state:<8} {t.role:<7} {scope:<24} {t.name}  ({used})")

    @token_group.command("revoke")
    @click.argument("token_id")
    @click.pass_obj
    @handle_errors
    def token_revoke(obj: Any, token_id: str) -> None:
        """Revoke a token at once (every server worker refuses it from the next request)."""
        token = TokenStore(obj.catalog.engine).revoke(token_id)
        AuditLog(obj.catalog.engine).record("token-revoke", "ok", token_id=token.id,
                                            client=cli_client(),
                                            detail=f"token of {token.name}")
        click.echo(f"token {token.id} ({token.name}) is revoked")

    @main.command("audit")
    @click.option("--layer", default=None, help="Only this layer.")
    @click.option("--token", "token_id", default=None, help="Only this token id.")
    @click.option("--limit", type=int, default=50, show_default=True)
    @click.option("--json", "as_json", is_flag=True, help="Print JSON.")
    @click.pass_obj
    @handle_errors
    def audit(obj: Any, layer: str | None, token_id: str | None, limit: int,
              as_json: bool) -> None:
        """Who wrote what, when, from where, and how it ended (newest first)."""
        rows = AuditLog(obj.catalog.engine).query(layer_id=layer, token_id=token_id,
                                                  limit=limit)
        if as_json:
            click.echo(json.dumps(rows, ensure_ascii=False, indent=2, default=str))
            return
        for r in rows:
            click.echo(f"{r['time'][:19]}  {r['result']:<8} {r['status'] or '':<4} "
                       f"{r['action']:<10} {r['layer_id'] or '-':<28} "
                       f"v{r['version'] or '-':<4} token {r['token_id'] or '-':<9} "
                       f"{r['client'] or '-'}  {r['detail'] or ''}")

    @main.command("cleanup")
    @click.option("--grace", "grace_s", type=click.FloatRange(min=0), default=GRACE_SECONDS,
                  show_default=True,
                  help="Keep leftovers modified less than this many seconds ago (a running "
                       "ingest's); files open in any process are always kept.")
    @click.option("--dry-run", is_flag=True, help="List what would be removed; remove nothing.")
    @click.option("--json", "as_json", is_flag=True, help="Print JSON.")
    @click.pass_obj
    @handle_errors
    def cleanup(obj: Any, grace_s: float, dry_run: bool, as_json: bool) -> None:
        """Remove what crashed ingests, workers and uploads left behind.

        Staged GeoPackages and COGs (.*.part*, *.tmp_rtree*), versions the catalog never
        registered, upload folders of jobs no longer queued or running, PostGIS tables no
        version names, and our scratch folders in the temp directory. Published versions
        are never touched. The server does the same at start-up and after each upload job.

        \b
        Examples:
          geoportal cleanup
          geoportal cleanup --dry-run
        """
        settings = obj.settings
        report = clean_up(obj.catalog, open_store(settings),
                          coverage_dir=RasterStore.for_settings(settings),
                          uploads_dir=upload_dir(settings), grace_s=grace_s, dry_run=dry_run,
                          upload_retention_s=settings.upload_retention_s)
        if as_json:
            click.echo(json.dumps({"removed": [vars(r) for r in report.removed],
                                   "bytes": report.bytes, "kept": report.kept,
                                   "dry_run": dry_run}, indent=2))
            return
        verb = "would remove" if dry_run else "removed"
        for r in report.removed:
            click.echo(f"{verb} {r.kind}: {r.name} ({r.bytes:,} bytes)")
        if dry_run:
            click.echo(f"dry run: {len(report.removed)} leftovers, {report.bytes:,} bytes")
        else:
            click.echo(report.summary())

    @main.command("upload")
    @click.option("--url", required=True, help="The portal, e.g. https://geoportal.example.by")
    @click.option("--token", default=None, help="An API token [GEOPORTAL_TOKEN].")
    @click.option("--json", "as_json", is_flag=True, help="Print the finished job as JSON.")
    @click.argument("manifest", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @handle_errors
    def upload(url: str, token: str | None, as_json: bool, manifest: Path) -> None:
        """Send a layer (its manifest and data file) to a running portal and wait for it.

        Exit 0 when published, 2 when refused or rejected (the reason is printed), 1 when the
        portal failed or could not be reached.

        \b
        Examples:
          export GEOPORTAL_TOKEN=gpt_...
          geoportal upload --url http://127.0.0.1:5000 layers/grodno/roads.yaml
        """
        seen: dict[str, Any] = {"stage": "", "sent": 0}
        with ProgressBar(enabled=sys.stderr.isatty()) as bar:

            def progress(stage: str, done: int, total: int) -> None:
                if stage == "upload":
                    if not seen["stage"]:
                        seen["stage"] = "upload"
                        bar.start(total, f"upload {manifest.name}")
                    bar.advance(done - seen["sent"])
                    seen["sent"] = done
                elif stage != seen["stage"]:
                    seen["stage"] = stage
                    click.echo(f"job {stage}", err=True)

            job = upload_layer(url, token_from_env(token), manifest, progress=progress)
        if as_json:
            click.echo(json.dumps(job, ensure_ascii=False, indent=2))
            return
        report = VersionReport.from_dict(job.get("report"))
        published = "?" if report.features_published is None else report.features_published
        click.echo(f"{job['layer']}: version {job['version']} published (job {job['id']}): "
                   f"{published} features, {report.set_aside_count} set aside")
        for reason, n in report.set_aside.items():
            click.echo(f"  set aside: {reason}: {n}")
        for note in report.notes:
            click.echo(f"  note: {note}")
