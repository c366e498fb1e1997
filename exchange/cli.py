"""The ``exchange`` command: create, fill, export and serve a library instance."""

from __future__ import annotations

import contextlib
import getpass
import os
import signal
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import click
from flask import Flask
from flask import current_app
from flask.cli import ScriptInfo
from flask.cli import run_command as flask_run_command
from flask.cli import with_appcontext
from werkzeug.serving import is_running_from_reloader

from exchange import catalogs
from exchange import consistency
from exchange.accounts import passwords
from exchange.accounts import people
from exchange.background import KINDS
from exchange.errors import InvalidCity
from exchange.initialise import initialise
from exchange.initialise import prepare_search
from exchange.initialise import warm_up
from exchange.jobs import embedded
from exchange.jobs import runner
from exchange.library import cities as city_service
from exchange.library import publishing
from exchange.packs import exports
from exchange.review import notifications
from exchange.search import indexing
from exchange.search.backend import ReindexRunning
from exchange.web.extensions import library


def _(message: str, **values: Any) -> str:
    """``message`` in the language of the command's environment (LANGUAGE, LC_ALL, LC_MESSAGES, LANG)."""
    return catalogs.gettext(catalogs.environment_language(), message, **values)


def _told(error: BaseException) -> str:
    """What ``error`` says, in the environment's language when a service wrote it as a ``catalogs.Message``."""
    return str(catalogs.said(error.args[0], catalogs.environment_language())) if error.args else str(error)


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def init_app(app: Flask) -> None:
    """Add our commands to the app's command group (so the test runner and ``exchange`` both see them)."""
    for command in (init_command, import_command, export_command, cities_group, serve_command, reindex_command,
                    check_command, users_group, notify_due_command, packs_group, worker_command):
        app.cli.add_command(command)


@click.command("init")
@click.option("--empty", is_flag=True, help="Create the instance without the bundled practices.")
@with_appcontext
def init_command(empty: bool) -> None:
    """Create or upgrade the instance: database, partner cities, and (once) the bundled practices."""
    report = initialise(library.instance, _actor(), seed=not empty)
    click.echo(_("Instance %(path)s: database ready; %(count)s partner cities added.", path=library.instance.path,
                 count=len(report.cities_added)))
    if report.seeded:
        _report(report.seeded, quiet=True)
        click.echo(_("Seeded %(count)s bundled practices.", count=sum(not o.failed for o in report.seeded)))


@click.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@with_appcontext
def import_command(paths: tuple[Path, ...]) -> None:
    """Publish practice files, folders or .zip bundles: one line per file; exit 1 if any failed."""
    outcomes = publishing.import_paths(library.instance, list(paths), _actor())
    _report(outcomes)


def _report(outcomes: Iterable[publishing.Outcome], quiet: bool = False) -> None:
    """Print each outcome's line as soon as it is done (a killed run has reported what it did)."""
    done: list[publishing.Outcome] = []
    for outcome in outcomes:
        done.append(outcome)
        if outcome.failed or not quiet:
            click.echo(outcome.line(), err=outcome.failed)  # echo flushes: each line is out when done
    failed = sum(o.failed for o in done)
    if not quiet:
        counts = {s: sum(o.status == s for o in done) for s in ("created", "updated", "unchanged")}
        click.echo(_("%(created)s created, %(updated)s updated, %(unchanged)s unchanged, %(failed)s failed",
                     failed=failed, **counts))
    if failed:
        sys.exit(1)


@click.command("export")
@click.argument("dest", type=click.Path(path_type=Path))
@with_appcontext
def export_command(dest: Path) -> None:
    """Write every current practice to folder DEST (or DEST.zip), ready for 'exchange import'."""
    if dest.suffix != ".zip" and dest.exists() and any(dest.iterdir()):
        raise click.ClickException(_("%(dest)s is not empty; export into a new folder or a .zip", dest=dest))
    count = publishing.export(library.instance, dest, _actor())
    click.echo(_("Exported %(count)s practices to %(dest)s.", count=count, dest=dest))


@click.group("cities")
def cities_group() -> None:
    """Partner cities."""


@cities_group.command("add")
@click.argument("slug")
@click.option("--country", required=True, help="ISO 3166-1 alpha-2 code, e.g. ID.")
@click.option("--name", required=True, help="The city's usual name.")
@click.option("--name-en", help="Name in English.")
@click.option("--name-id", help="Name in Indonesian.")
@click.option("--name-ja", help="Name in Japanese.")
@with_appcontext
def cities_add(slug: str, country: str, name: str, name_en: str | None, name_id: str | None,
               name_ja: str | None) -> None:
    """Add partner city SLUG."""
    spec = city_service.CitySpec(slug=slug, country=country.upper(), name=name,
                                 name_en=name_en or name, name_id=name_id, name_ja=name_ja)
    try:
        added = city_service.add(library.instance, spec, _actor())
    except InvalidCity as error:
        raise click.ClickException(str(error)) from None
    click.echo(_("Added city %(slug)s.", slug=slug) if added else
               _("City %(slug)s already exists; nothing changed.", slug=slug))


@cities_group.command("list")
@with_appcontext
def cities_list() -> None:
    """List the partner cities."""
    for city in city_service.all_cities(library.instance):
        click.echo(f"{city.slug:<20} {city.country}  {city.name_en or city.name} / {city.name_id or '-'}"
                   f" / {city.name_ja or '-'}")


@click.command("reindex")
@with_appcontext
def reindex_command() -> None:
    """Build a fresh search index beside the live one and swap it in; searches keep working meanwhile."""
    try:
        count = indexing.rebuild(library.instance, wait=False)
    except ReindexRunning as error:
        raise click.ClickException(str(error)) from None
    click.echo(_("Indexed %(count)s practices; the new index is live.", count=count))


@click.command("check")
@click.option("--repair", is_flag=True, help="Fix what is found (library files are the truth for content).")
@with_appcontext
def check_command(repair: bool) -> None:
    """Report drift between library files, database and search index; exit 1 when any remains."""
    drifts = consistency.check(library.instance)
    for drift in drifts:
        click.echo(drift.line())
    if not drifts:
        click.echo(_("Library, database and search index agree."))
        return
    if not repair:
        click.echo(_("%(count)s problems found; run 'exchange check --repair' to fix them.", count=len(drifts)))
        sys.exit(1)
    for line in consistency.repair(library.instance, drifts, _actor()):
        click.echo(_("repaired: %(line)s", line=line))
    remaining = consistency.check(library.instance)
    for drift in remaining:
        click.echo(_("still wrong: %(line)s", line=drift.line()))
    sys.exit(1 if remaining else 0)


@click.group("users")
def users_group() -> None:
    """Accounts (there are no default accounts: create the first administrator here)."""


@users_group.command("create")
@click.argument("email")
@click.option("--name", required=True, help="The person's name.")
@click.option("--role", "roles", multiple=True, required=True, type=click.Choice(people.ROLES),
              help=f"{', '.join(people.ROLES[:-1])} or {people.ROLES[-1]}; repeatable.")
@click.option("--city", "cities", multiple=True, help="A city the person contributes for; repeatable.")
@with_appcontext
def users_create(email: str, name: str, roles: tuple[str, ...], cities: tuple[str, ...]) -> None:
    """Create an account. A password piped on standard input is set; otherwise an invitation link is printed."""
    password = None if sys.stdin is None or sys.stdin.isatty() else sys.stdin.readline().rstrip("\n") or None
    try:
        token = people.create_user(library.instance, email, name, list(roles), list(cities), _actor(), password)
    except (people.AccountError, passwords.WeakPassword) as error:
        raise click.ClickException(_told(error)) from None
    if token is None:
        click.echo(_("Created %(email)s with the password given on standard input.", email=email))
    else:
        base = current_app.config["EXCHANGE_BASE_URL"].rstrip("/")
        click.echo(_("Created %(email)s. Send them this invitation link (valid %(days)s days):", email=email,
                     days=people.INVITATION_DAYS))
        click.echo(f"{base}/invitations/{token}")


@users_group.command("disable")
@click.argument("email")
@with_appcontext
def users_disable(email: str) -> None:
    """Disable an account: it can no longer sign in and its sessions end."""
    try:
        people.disable(library.instance, email, _actor())
    except people.AccountError as error:
        raise click.ClickException(_told(error)) from None
    click.echo(_("Disabled %(email)s; its sessions have ended.", email=email))


@users_group.command("enable")
@click.argument("email")
@with_appcontext
def users_enable(email: str) -> None:
    """Let a disabled account sign in again (with its password)."""
    try:
        enabled = people.enable(library.instance, email, _actor())
    except people.AccountError as error:
        raise click.ClickException(_told(error)) from None
    click.echo(_("%(email)s can sign in again.", email=email) if enabled else
               _("%(email)s was not disabled; nothing changed.", email=email))


@click.command("notify-due")
@click.option("--within", default=30, show_default=True, help="Days ahead that count as due.")
@with_appcontext
def notify_due_command(within: int) -> None:
    """Notify each city's contributors of practices due for review (run daily, e.g. from cron)."""
    count = notifications.review_due(library.instance, within)
    click.echo(_("%(count)s notifications sent.", count=count))


@click.group("packs")
def packs_group() -> None:
    """Course packs."""


@packs_group.command("export")
@click.argument("pack_id", type=int)
@click.option("--format", "format_", type=click.Choice(list(exports.FORMATS)), default="pdf", show_default=True)
@click.option("--edition", type=click.Choice(exports.EDITIONS), default="participant", show_default=True)
@click.option("-o", "output", type=click.Path(path_type=Path), required=True)
@with_appcontext
def packs_export(pack_id: int, format_: str, edition: str, output: Path) -> None:
    """Export PACK_ID as its owner may read it now (the same limits as on the web)."""
    import time

    from exchange.library.storage import write_durably
    from exchange.models import Pack
    from exchange.packs import packs

    with library.instance.db.session() as session:
        pack = session.get(Pack, pack_id)
    owner = people.by_id(library.instance, pack.owner_id) if pack else None
    if owner is None:
        raise click.ClickException(_("no pack %(pack)s with an active owner", pack=pack_id))
    started = time.perf_counter()
    try:
        data = exports.export(library.instance, owner, pack_id, format_, edition,
                                   current_app.config["EXCHANGE_BASE_URL"])
    except packs.PackNotFound:
        raise click.ClickException(_("no pack %(pack)s", pack=pack_id)) from None
    except exports.PackTooLarge as error:
        raise click.ClickException(str(error)) from None
    write_durably(output.resolve(), data)
    size, seconds = f"{len(data):,}", f"{time.perf_counter() - started:.1f}"
    click.echo(_("Wrote %(output)s: %(format)s, %(edition)s edition, %(size)s bytes in %(seconds)s s.", output=output,
                 format=format_, edition=edition, size=size, seconds=seconds))


@packs_group.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--owner", "email", required=True, help="E-mail of the account that will own the pack.")
@with_appcontext
def packs_import(path: Path, email: str) -> None:
    """Rebuild a pack from a Markdown ZIP (import its practices first with ``exchange import``)."""
    from exchange.packs.exports import markdown_zip

    ids, unknown = people.ids_for_emails(library.instance, [email])
    owner = people.by_id(library.instance, ids[0]) if ids else None
    if owner is None:
        raise click.ClickException(_("no active account %(email)s", email=", ".join(unknown) or email))
    try:
        imported = markdown_zip.import_pack(library.instance, owner, path)
    except ValueError as error:
        raise click.ClickException(_told(error)) from None
    for note in imported.notes:
        click.echo(note, err=True)
    click.echo(_("Imported pack %(pack)s for %(email)s.", pack=imported.pack_id, email=email))


@click.command("worker")
@click.option("--poll", "poll_seconds", default=runner.POLL_SECONDS, show_default=True, type=float,
              help="Seconds between looks for due jobs.")
@click.option("--until-idle", is_flag=True, help="Run the jobs due now, one after another, then exit.")
@click.option("--until-stdin-closes", is_flag=True, hidden=True,
              help="Also stop when standard input closes (the server that started this runner is gone).")
@with_appcontext
def worker_command(poll_seconds: float, until_idle: bool, until_stdin_closes: bool) -> None:
    """Run the job runner: e-mail, pack exports and search index upkeep (SIGTERM stops it cleanly)."""
    import logging
    import threading

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    job_runner = runner.Runner(library.instance, KINDS, poll_seconds=poll_seconds)
    if until_idle:
        click.echo(_("Ran %(count)s jobs.", count=job_runner.run_pending()))
        return
    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, lambda _number, _frame: job_runner.stop())
    if until_stdin_closes:
        def watch() -> None:
            sys.stdin.buffer.read()  # returns at end of file: whoever held the other end is gone
            job_runner.stop()

        threading.Thread(target=watch, daemon=True, name="stdin-watch").start()
    click.echo(_("Job runner running for %(path)s; Ctrl+C or SIGTERM stops it once the jobs in hand are done.",
                 path=library.instance.path), err=True)
    job_runner.run()
    click.echo(_("Job runner stopped."), err=True)


#: one worker process per core: each answers on about one core
DEFAULT_WORKERS = min(os.cpu_count() or 1, 8)
NO_WORKER_HELP = "Start no job runner beside the server (when 'exchange worker' runs separately)."


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", default=DEFAULT_WORKERS, show_default=True, type=click.IntRange(1, 64),
              help="Worker processes (each answers on about one core).")
@click.option("--threads", default=4, show_default=True, type=click.IntRange(1, 64),
              help="Threads in each worker process.")
@click.option("--no-worker", is_flag=True, help=NO_WORKER_HELP)
@with_appcontext
def serve_command(host: str, port: int, workers: int, threads: int, no_worker: bool) -> None:
    """Serve the library with gunicorn (--workers processes of --threads threads; --port 0: any free port),
    and one job runner beside it."""
    import logging

    from exchange.server import Server
    from exchange.server import close_inherited

    # current_app is typed as the Flask app it stands for, so its proxy's own method is unknown to mypy.
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    logging.basicConfig()
    prepare_search(library.instance)
    warm_up(library.instance)
    _warm_pages(app)
    runner_files: list[int] = []

    def ready(bound: int) -> None:
        # Said once the socket listens, with the port it got: a script (or test) may connect when it reads this.
        address = f"http://{host}:{bound}/"
        click.echo(_("Serving %(path)s on %(address)s", path=library.instance.path, address=address))
        process = _start_runner(stack, app, no_worker)
        if process is not None and process.stdin is not None:
            runner_files.append(process.stdin.fileno())

    with contextlib.ExitStack() as stack:
        # gunicorn stops on SIGTERM and SIGINT, leaving its loop with SystemExit: the runner is stopped with it.
        Server(app, host, port, workers, threads, ready, lambda: close_inherited(app, runner_files)).run()


def _warm_pages(app: Flask) -> None:
    """Compile the reading pages' templates once, in the process whose memory the workers will share."""
    client = app.test_client()
    for path in ("/", "/practices", "/practices?q=flood"):
        client.get(path)


def _start_runner(stack: contextlib.ExitStack, app: Flask, no_worker: bool) -> subprocess.Popen | None:
    """Start the embedded job runner for ``app``'s instance, stopped when ``stack`` closes (unless ``no_worker``)."""
    if no_worker:
        click.echo(_("No job runner (--no-worker): mail, exports and index upkeep wait for 'exchange worker'."))
        return None
    process = stack.enter_context(embedded.runner_process(
        app.extensions["exchange"].path, app.config["DATABASE_URL"], app.config["EXCHANGE_BASE_URL"]))
    click.echo(_("Job runner started (pid %(pid)s); it stops with the server.", pid=process.pid))
    return process


def _with_runner(command: click.Command) -> click.Command:
    """Flask's ``run`` (the development server), starting a job runner beside it unless --no-worker."""
    serve = command.callback
    assert serve is not None  # Flask's run command has its callback

    @click.pass_context
    def run(context: click.Context, no_worker: bool, **options: object) -> None:
        if is_running_from_reloader():  # the reloader's serving child: its parent started the runner
            context.invoke(serve, **options)
            return
        with contextlib.ExitStack() as stack:
            _start_runner(stack, context.ensure_object(ScriptInfo).load_app(), no_worker)
            signal.signal(signal.SIGTERM, lambda _number, _frame: sys.exit(0))  # stop the runner with the server
            context.invoke(serve, **options)

    no_worker = click.Option(["--no-worker"], is_flag=True, help=NO_WORKER_HELP)
    return click.Command(command.name, callback=run, params=[*command.params, no_worker],
                         help=f"{command.help}\n\nA job runner (mail, exports, index upkeep) runs beside it.",
                         short_help=command.short_help)


#: ``exchange run``: Flask's development server, with a job runner beside it
run_command = _with_runner(flask_run_command)
