"""The `tenantry` command: serve, manage organizations, migrate."""

from __future__ import annotations

import asyncio
import json
import logging
import os
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from tenantry import migrations
from tenantry.cli.toolkits import app as toolkits_app
from tenantry.config import Settings, get_settings

app = typer.Typer(
    help="Tenantry: a self-hostable multi-tenant control plane.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
org_app = typer.Typer(help="Organizations.", no_args_is_help=True)
db_app = typer.Typer(help="The database schema.", no_args_is_help=True)
app.add_typer(org_app, name="org")
app.add_typer(db_app, name="db")
keys_app = typer.Typer(help="The master keys that protect stored secrets.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
app.add_typer(toolkits_app, name="toolkits")
member_app = typer.Typer(help="Members of organizations and their user API keys.", no_args_is_help=True)
app.add_typer(member_app, name="member")

err = Console(stderr=True)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
    migrate: Annotated[bool, typer.Option(help="Apply pending migrations before serving.")] = True,
    access_log: Annotated[bool, typer.Option(help="Log every request line.")] = True,
) -> None:
    """Migrate the database, then serve the API."""
    import uvicorn

    if "TENANTRY_PUBLIC_URL" not in os.environ:
        # Links, OAuth redirect URIs and MCP URLs point here unless the operator says otherwise;
        # the worker processes inherit the variable.
        reachable = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
        os.environ["TENANTRY_PUBLIC_URL"] = f"http://{reachable}:{port}"
        get_settings.cache_clear()
    settings = get_settings()
    _preflight(settings)
    if migrate:
        migrations.upgrade(settings.resolved_database_url)
    err.print(f"[bold]tenantry[/] serving on http://{host}:{port} ({_describe_database()})")
    err.print(f"dashboard: {settings.public_url.rstrip('/')}/dashboard · API: {settings.public_url.rstrip('/')}/api/v3.1")
    uvicorn.run(
        "tenantry.main:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        access_log=access_log,
        log_level="info",
    )


def _preflight(settings: Settings) -> None:
    """Refuse to start on a configuration that would fail later, one request at a time."""
    from tenantry.toolkits.catalog import CatalogError, get_catalog
    from tenantry.vault import keyring
    from tenantry.vault.errors import VaultError

    try:
        get_catalog()
        keyring.current()
    except (CatalogError, VaultError) as exc:
        err.print(f"[red]cannot serve:[/] {escape(str(exc))}", soft_wrap=True)
        raise typer.Exit(2) from None
    if not settings.is_sqlite and (settings.master_key is None or settings.secret_key is None):
        # Key files in one machine's data directory are useless to the workers of another.
        err.print(
            "[yellow]warning:[/] on a shared database every worker needs the same "
            "TENANTRY_SECRET_KEY and TENANTRY_MASTER_KEY; one of them is unset, so this worker "
            "uses key files in its own data directory"
        )


@org_app.command("create")
def org_create(
    name: Annotated[str, typer.Argument(help="The organization's name.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout.")] = False,
) -> None:
    """Create an organization and print its org API key (shown only this once)."""
    from pydantic import ValidationError

    from tenantry.organizations.schemas import OrganizationCreate

    try:
        payload = OrganizationCreate(name=name)
    except ValidationError as exc:
        err.print(f"[red]invalid name:[/] {exc.errors()[0]['msg']}")
        raise typer.Exit(2) from None
    migrations.upgrade(get_settings().resolved_database_url)
    created = asyncio.run(_create_organization(payload))
    if as_json:
        typer.echo(json.dumps(created.model_dump()))
        return
    err.print(f"Organization [bold]{created.name}[/] created: {created.id}")
    err.print("Its org API key, shown only now (send it as the x-org-api-key header):")
    typer.echo(created.api_key)


async def _create_organization(payload):  # type: ignore[no-untyped-def]
    from tenantry.db import create_engine, create_sessionmaker, unit_of_work
    from tenantry.organizations import service

    engine = create_engine(get_settings().resolved_database_url)
    try:
        async with unit_of_work(create_sessionmaker(engine)) as session:
            return await service.create(session, payload)
    finally:
        await engine.dispose()


@member_app.command("create")
def member_create(
    org_id: Annotated[str, typer.Argument(help="The organization (ok_…).")],
    email: Annotated[str, typer.Argument(help="The member's email; one person is one member across organizations.")],
    name: Annotated[str, typer.Option(help="The member's name.")],
    role: Annotated[str, typer.Option(help="admin, or developer (no deleting projects, no audit log).")] = "developer",
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout.")] = False,
) -> None:
    """Add a member to an organization and print a user API key for them (shown only this once)."""
    from pydantic import ValidationError

    from tenantry.errors import AppError
    from tenantry.members import service
    from tenantry.members.schemas import MemberCreate

    try:
        payload = MemberCreate(email=email, name=name, role=role)  # type: ignore[arg-type]
    except ValidationError as exc:
        problem = exc.errors()[0]
        err.print(f"[red]invalid {problem['loc'][0]}:[/] {escape(problem['msg'])}")
        raise typer.Exit(2) from None
    migrations.upgrade(get_settings().resolved_database_url)
    try:
        created = asyncio.run(_in_transaction(lambda session: service.create(session, org_id, payload)))
    except AppError as exc:
        err.print(f"[red]cannot add the member:[/] {escape(exc.message)}")
        raise typer.Exit(1) from None
    if as_json:
        typer.echo(json.dumps(created.model_dump(mode="json")))
        return
    err.print(f"{created.email} is now {created.role.value} of {created.org_id} (member {created.id})")
    err.print("Their user API key, shown only now (send it as the x-user-api-key header):")
    typer.echo(created.api_key)


@member_app.command("list")
def member_list(
    org_id: Annotated[str, typer.Argument(help="The organization (ok_…).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON array on stdout.")] = False,
) -> None:
    """List an organization's members and their roles."""
    from tenantry.members import service

    migrations.upgrade(get_settings().resolved_database_url)
    members = asyncio.run(_in_transaction(lambda session: service.list_members(session, org_id)))
    if as_json:
        typer.echo(json.dumps([member.model_dump(mode="json") for member in members]))
        return
    for member in members:
        typer.echo(f"{member.id}  {member.role.value:9}  {member.email}  {member.name}")


@member_app.command("set-password")
def member_set_password(
    email: Annotated[str, typer.Argument(help="The member's email.")],
) -> None:
    """Set or reset a member's dashboard password, read from a prompt (or one line of stdin when piped).

    The member's failed sign-ins are forgiven and their dashboard sessions end.
    """
    import sys

    from tenantry.dashboard import accounts
    from tenantry.errors import AppError

    if sys.stdin.isatty():
        password = typer.prompt("New password", hide_input=True, confirmation_prompt=True, err=True)
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    migrations.upgrade(get_settings().resolved_database_url)
    try:
        member = asyncio.run(_in_transaction(lambda session: accounts.set_password(session, email, password)))
    except AppError as exc:
        err.print(f"[red]cannot set the password:[/] {escape(exc.message)}")
        raise typer.Exit(1) from None
    err.print(f"Password set for {member.email} ({member.id}); they can sign in to the dashboard at /dashboard")


async def _in_transaction(work):  # type: ignore[no-untyped-def]
    from tenantry.db import create_engine, create_sessionmaker, unit_of_work

    engine = create_engine(get_settings().resolved_database_url)
    try:
        async with unit_of_work(create_sessionmaker(engine)) as session:
            return await work(session)
    finally:
        await engine.dispose()


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending migration."""
    migrations.upgrade(get_settings().resolved_database_url)
    err.print(f"database is up to date ({_describe_database()})")


@db_app.command("check")
def db_check() -> None:
    """Fail when the models and the migrations disagree (run against a migrated database)."""
    from alembic.util import AutogenerateDiffsDetected

    url = get_settings().resolved_database_url
    migrations.upgrade(url)
    try:
        migrations.check(url)
    except AutogenerateDiffsDetected as exc:
        err.print(f"[red]models and migrations differ:[/] {exc}")
        raise typer.Exit(1) from None
    err.print("models and migrations agree")


# Typer keeps the line breaks inside a docstring's later paragraphs, so this help is one string.
_KEYS_ROTATE_HELP = (
    "Rewrap every project's data key under a new master key, while servers keep serving.\n\n"
    "Embedded default (TENANTRY_MASTER_KEY unset): a new key is generated and put first in "
    "DATA_DIR/master.keys. The older keys stay in the file, so running servers still open data "
    "keys wrapped under them; `tenantry keys prune` drops them once nothing uses them.\n\n"
    "With TENANTRY_MASTER_KEY set, no key is generated. First give every worker the new key "
    "(`openssl rand -base64 32`) as TENANTRY_MASTER_KEY and the old one in "
    "TENANTRY_PREVIOUS_MASTER_KEYS, and restart them; then run this command with that same "
    "environment to rewrap everything under the new key; then drop the old key from "
    "TENANTRY_PREVIOUS_MASTER_KEYS."
)


@keys_app.command("rotate", help=_KEYS_ROTATE_HELP)
def keys_rotate(
    batch_size: Annotated[int, typer.Option(min=1, help="Data keys rewrapped per transaction.")] = 100,
) -> None:
    from tenantry.vault import keyring, rotation
    from tenantry.vault.errors import VaultError

    settings = get_settings()
    migrations.upgrade(settings.resolved_database_url)
    try:
        report = asyncio.run(
            _with_database(lambda sessionmaker: rotation.rotate(settings, sessionmaker, batch_size=batch_size))
        )
    except VaultError as exc:
        err.print(f"[red]cannot rotate:[/] {escape(str(exc))}", soft_wrap=True)
        raise typer.Exit(1) from None
    if report.generated:
        err.print(f"new master key {report.master_key_id} is now first in {keyring.key_file(settings)}")
    err.print(
        f"rewrapped {report.rewrapped} data keys; {report.total - report.remaining} of {report.total} "
        f"are under master key {report.master_key_id}"
    )
    known = keyring.load(settings)
    for kid, count in report.unreadable.items():
        why = "altered, or copied from another row" if known.get(kid) else "that master key is not in the keyring"
        err.print(f"[red]{count} data keys under master key {kid} could not be opened[/] ({why})")
    if report.remaining:
        err.print(f"[red]{report.remaining} data keys are still under other master keys[/]")
        raise typer.Exit(1)


@keys_app.command("prune")
def keys_prune() -> None:
    """Drop old master keys from DATA_DIR/master.keys once no data key is wrapped under them."""
    from tenantry.vault import rotation

    settings = get_settings()
    if settings.master_key is not None:
        err.print(
            "[red]the master keys come from the environment:[/] "
            "remove old ones from TENANTRY_PREVIOUS_MASTER_KEYS instead"
        )
        raise typer.Exit(2)
    migrations.upgrade(settings.resolved_database_url)
    dropped = asyncio.run(_with_database(lambda sessionmaker: rotation.prune(settings, sessionmaker)))
    err.print(f"dropped {len(dropped)} unused master keys" + (f": {', '.join(dropped)}" if dropped else ""))


async def _with_database(work):  # type: ignore[no-untyped-def]
    from tenantry.db import create_engine, create_sessionmaker

    engine = create_engine(get_settings().resolved_database_url)
    try:
        return await work(create_sessionmaker(engine))
    finally:
        await engine.dispose()


def _describe_database() -> str:
    settings = get_settings()
    if settings.is_sqlite:
        return f"embedded SQLite in {settings.data_dir.resolve()}"
    return "PostgreSQL" if "postgresql" in settings.resolved_database_url else "external database"


logging.getLogger("alembic").setLevel(logging.WARNING)
