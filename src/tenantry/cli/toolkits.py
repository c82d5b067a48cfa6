"""`tenantry toolkits …`: tools for the operator's toolkit files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

app = typer.Typer(help="The toolkit catalog and the operator's toolkit files.", no_args_is_help=True)
err = Console(stderr=True)


@app.command("import-openapi")
def import_openapi(
    file: Annotated[Path, typer.Argument(help="An OpenAPI 3 document, JSON or YAML.")],
    slug: Annotated[str | None, typer.Option(help="The toolkit's slug; from the API's title when not given.")] = None,
    name: Annotated[str | None, typer.Option(help="The toolkit's display name; the API's title when not given.")] = None,
    base_url: Annotated[str | None, typer.Option(help="The API's base URL, when the document's servers do not give one.")] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write here (.toml or .json) instead of to stdout.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of TOML.")] = False,
    force: Annotated[bool, typer.Option(help="Overwrite --output when it exists.")] = False,
) -> None:
    """Turn an OpenAPI 3 document into a toolkit with one tool per operation.

    The result is an operator toolkits file: name it in TENANTRY_TOOLKITS_FILE (several files are
    separated by `:`) and restart the server.
    """
    from tenantry.kit.toml import dumps
    from tenantry.toolkits.catalog import check_toolkit, load_catalog
    from tenantry.toolkits.openapi import OpenApiError, convert, load_document

    try:
        conversion = convert(load_document(file), slug=slug, name=name, base_url=base_url)
    except OpenApiError as exc:
        err.print(f"[red]cannot import:[/] {escape(str(exc))}", soft_wrap=True)
        raise typer.Exit(2) from None
    if load_catalog().get(conversion.slug) is not None:
        err.print(f"[red]cannot import:[/] {conversion.slug} is a built-in toolkit; the file would change it. Choose another --slug")
        raise typer.Exit(2)
    problems = check_toolkit(conversion.slug, conversion.toolkit)
    if problems:
        err.print("[red]the imported toolkit would not load:[/]\n  " + "\n  ".join(escape(problem) for problem in problems), soft_wrap=True)
        raise typer.Exit(2)
    for warning in conversion.warnings:
        err.print(f"[yellow]warning:[/] {escape(warning)}", soft_wrap=True)
    document = {"toolkits": {conversion.slug: conversion.toolkit}}
    write_json = as_json or (output is not None and output.suffix.lower() == ".json")
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n" if write_json else dumps(document)
    if output is None:
        typer.echo(text, nl=False)
    else:
        if output.exists() and not force:
            err.print(f"[red]{escape(str(output))} exists;[/] pass --force to overwrite it")
            raise typer.Exit(2)
        output.write_text(text, "utf-8")
        err.print(f"wrote toolkit [bold]{conversion.slug}[/] with {len(conversion.toolkit['tools'])} tools to {escape(str(output))}")
