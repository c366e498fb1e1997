"""The ``exchange`` command: create, fill, export and serve a library instance."""

from __future__ import annotations

import contextlib
import getpass
import gettext
import inspect
import os
import signal
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from typing import TypeVar

import click
from flask import Flask
from flask import current_app
from flask.cli import FlaskGroup
from flask.cli import ScriptInfo
from flask.cli import run_command as flask_run_command
from flask.cli import with_appcontext
from sqlalchemy import exc as sa_exc
from werkzeug.serving import is_running_from_reloader

from exchange import backup
from exchange import catalogs
from exchange import consistency
from exchange.accounts import passwords
from exchange.accounts import people
from exchange.background import KINDS
from exchange.catalogs import N_
from exchange.errors import Invalid
from exchange.errors import InvalidCity
from exchange.errors import SettingError
from exchange.harvesting import harvests
from exchange.initialise import initialise
from exchange.initialise import prepare_search
from exchange.initialise import warm_up
from exchange.initialise import warm_worker
from exchange.instance import Instance
from exchange.jobs import embedded
from exchange.jobs import runner
from exchange.library import cities as city_service
from exchange.library import publishing
from exchange.packs import exports
from exchange.review import notifications
from exchange.search import indexing
from exchange.search.backend import IndexUnavailable
from exchange.search.backend import ReindexRunning
from exchange.web.extensions import library


def _(message: str, **values: Any) -> str:
    """``message`` in the language of the command's environment (LANGUAGE, LC_ALL, LC_MESSAGES, LANG)."""
    return catalogs.gettext(catalogs.environment_language(), message, **values)


class _Help:
    """A help attribute of a click command or option: kept as written (English, marked ``N_``), read in the
    language of the environment each time click shows it (``exchange --help`` under LANG=ja_JP.UTF-8)."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, thing: object, owner: type | None = None) -> Any:
        text = vars(thing).get(self.name) if thing is not None else None
        return _(inspect.cleandoc(text)) if text else text

    def __set__(self, thing: object, text: str | None) -> None:
        vars(thing)[self.name] = text


#: what --help does, in click's words
HELP_OPTION_HELP = N_("Show this message and exit.")


class Command(click.Command):
    """A command whose help (and short help in listings) is read in the environment's language."""

    help = _Help()
    short_help = _Help()

    def get_short_help_str(self, limit: int = 45) -> str:
        """The short help, or the first sentence of the help: in Japanese, which click cannot shorten at
        spaces, everything up to the first "。"."""
        first = (self.help or "").partition("\n\n")[0]
        if not self.short_help and "。" in first:
            return first.partition("。")[0] + "。"
        return super().get_short_help_str(limit)

    def get_help_option(self, context: click.Context) -> click.Option | None:
        """The --help option, its help read when shown (click words it once, in the language of that moment)."""
        option = super().get_help_option(context)
        if option is not None and type(option) is click.Option:
            speaking(option).help = HELP_OPTION_HELP
        return option


class Group(Command, click.Group):
    """A group of commands whose help is read in the environment's language."""


class Main(Command, FlaskGroup):
    """The ``exchange`` command: Flask's command group, its help and click's words (Usage, Options,
    errors) read in the environment's language."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        # click says its own words through gettext's default domain, "messages": ours is named so too
        gettext.bindtextdomain("messages", str(catalogs.DIRECTORY))
        try:
            return super().main(*args, **kwargs)
        except SettingError as error:  # raised while the app is made, outside any command's own handling
            click.ClickException(_told(error)).show()  # "Error: …", as click says it, in the environment's language
            sys.exit(1)
        except sa_exc.DBAPIError as error:  # no server there, no such role or database, no rights: not our bug
            said = str(error.orig or error).strip().splitlines()
            click.ClickException(_("the database could not be used: %(reason)s",
                                   reason=said[0] if said else type(error).__name__)).show()
            sys.exit(1)


class Option(click.Option):
    """An option whose help is read in the environment's language."""

    help = _Help()


Spoken = TypeVar("Spoken", click.Command, click.Option)
#: the click and Flask classes whose objects :func:`speaking` makes read their help in the environment's language
_SPEAKING: dict[type, type] = {click.Command: Command, click.Group: Group, click.Option: Option}

#: Flask's help of its own options and commands (shell, routes, and run's options), as Flask writes it, for
#: the catalogs; one Flask rewords is shown in English until it is added here again
FLASK_HELP = (
    N_("Load environment variables from this file, taking precedence over those set by '.env' and '.flaskenv'. "
       "Variables set directly in the environment take highest precedence. python-dotenv must be installed."),
    N_("The Flask application or factory function to load, in the form 'module:name'. Module can be a dotted "
       "import or file path. Name is not required if it is 'app', 'application', 'create_app', or 'make_app', "
       "and can be 'name(args)' to pass arguments."),
    N_("Set debug mode."),
    N_("Run a shell in the app context."),
    N_("Run an interactive Python shell in the context of a given\nFlask application.  The application will "
       "populate the default\nnamespace of this shell according to its configuration.\n\nThis is useful for "
       "executing small snippets of management code\nwithout having to manually configure the application."),
    N_("Show the routes for the app."),
    N_("Show all registered routes with endpoints and methods."),
    N_("Method to sort routes by. 'match' is the order that Flask will match routes when dispatching a request."),
    N_("Show HEAD and OPTIONS methods."),
    N_("The interface to bind to."),
    N_("The port to bind to."),
    N_("Specify a certificate file to use HTTPS."),
    N_("The key file to use when specifying a certificate."),
    N_("Enable or disable the reloader. By default the reloader is active if debug is enabled."),
    N_("Enable or disable the debugger. By default the debugger is active if debug is enabled."),
    N_("Enable or disable multithreading."),
    N_("Extra files that trigger a reload on change. Multiple paths are separated by ':'."),
    N_("Files matching these fnmatch patterns will not trigger a reload on change. Multiple patterns are "
       "separated by ':'."),
)
#: click's own words in help and errors (click asks gettext for them; :meth:`Main.main` points it at ours)
CLICK_WORDS = (
    N_("Usage:"), N_("Options"), N_("Commands"), N_("default: {default}"),
    N_("required"), N_("Error: {message}"), N_("Try '{command} {option}' for help."), N_("Missing argument"),
    N_("Missing option"), N_("No such command {name!r}."), N_("No such option {name!r}."),
    N_("Invalid value for {param_hint}: {message}"), N_("Got unexpected extra argument ({args})"),
)


def speaking(thing: Spoken) -> Spoken:
    """``thing``, a command (with its options and subcommands) or an option, ours or Flask's own, its help
    read in the environment's language when shown: each becomes the matching class above, which only adds that."""
    thing.__class__ = _SPEAKING.get(type(thing), type(thing))
    for part in (*getattr(thing, "params", ()), *getattr(thing, "commands", {}).values()):
        speaking(part)
    return thing


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
    for command in (init_command, import_command, export_command, backup_command, restore_command, cities_group,
                    serve_command, reindex_command, check_command, users_group, notify_due_command, packs_group,
                    worker_command, harvest_command):
        app.cli.add_command(speaking(command))


@click.command("init", help=N_("Create or upgrade the instance: database, partner cities, and (once) the bundled "
                                "practices."))
@click.option("--empty", is_flag=True, help=N_("Create the instance without the bundled practices."))
@with_appcontext
def init_command(empty: bool) -> None:
    report = initialise(library.instance, _actor(), seed=not empty)
    click.echo(_("Instance %(path)s: database ready; %(count)s partner cities added.", path=library.instance.path,
                 count=len(report.cities_added)))
    if report.seeded:
        _report(report.seeded, quiet=True)
        click.echo(_("Seeded %(count)s bundled practices.", count=sum(not o.failed for o in report.seeded)))


@click.command("import", help=N_("Publish practice files, folders or .zip bundles: one line per file; exit 1 if any "
                                  "failed."))
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@with_appcontext
def import_command(paths: tuple[Path, ...]) -> None:
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


@click.command("harvest", help=N_("Harvest the public practices of another Practice Exchange from its OAI-PMH address "
                                   "URL (e.g. https://jakarta.example/oai): one line per record; exit 1 if any "
                                   "failed. Each later run asks only for what changed since."))
@click.argument("url")
@click.option("--set", "sets", multiple=True, metavar="SET",
              help=N_("Only this set (city:SLUG, country:CC, hazard:KEY, kind:KIND); repeat for several."))
@with_appcontext
def harvest_command(url: str, sets: tuple[str, ...]) -> None:
    try:
        report = harvests.harvest_url(library.instance, url, list(sets), _actor())
    except Invalid as error:
        raise click.ClickException(_told(error)) from None
    language = catalogs.environment_language()
    for line in report.lines:
        if line.status == "unchanged":
            continue
        words = [_(harvests.STATUSES.get(line.status, line.status)), line.identifier or line.practice_id or ""]
        if line.problems:
            words.append("— " + "; ".join(str(catalogs.said(p, language)) for p in line.problems))
        click.echo(" ".join(w for w in words if w), err=line.failed)
    counts = report.counts
    click.echo(_("%(name)s: %(created)s created, %(updated)s updated, %(unchanged)s unchanged, %(conflict)s sent "
                 "for review, %(withdrawn)s withdrawn, %(failed)s failed", name=report.name or report.base_url,
                 created=counts["created"], updated=counts["updated"], unchanged=counts["unchanged"],
                 conflict=counts["conflict"], withdrawn=counts["withdrawn"], failed=counts["failed"]))
    if report.failed:
        sys.exit(1)


@click.command("export", help=N_("Write every current practice to folder DEST (or DEST.zip), ready for 'exchange "
                                  "import'."))
@click.argument("dest", type=click.Path(path_type=Path))
@with_appcontext
def export_command(dest: Path) -> None:
    if dest.suffix != ".zip" and dest.exists() and any(dest.iterdir()):
        raise click.ClickException(_("%(dest)s is not empty; export into a new folder or a .zip", dest=dest))
    count = publishing.export(library.instance, dest, _actor())
    click.echo(_("Exported %(count)s practices to %(dest)s.", count=count, dest=dest))


@click.command("backup", help=N_("Back up the whole instance into the new folder DEST while it keeps serving: the "
                                  "database, every practice and version, and a manifest of checksums."))
@click.argument("dest", type=click.Path(path_type=Path))
@click.option("--verify", "verify_only", is_flag=True,
              help=N_("Check the backup in DEST against its manifest instead of making one."))
@with_appcontext
def backup_command(dest: Path, verify_only: bool) -> None:
    try:
        if verify_only:
            _verify(dest)
            return
        summary = backup.backup(library.instance, dest, _actor())
    except backup.BackupError as error:
        raise click.ClickException(_told(error)) from None
    click.echo(_("Backed up %(practices)s practices (%(versions)s versions) and the %(database)s database to "
                 "%(dest)s.", practices=summary.practices, versions=summary.versions, database=summary.database,
                 dest=summary.path))


def _verify(folder: Path) -> None:
    """Check the backup in ``folder`` against its manifest, and say so (BackupError names what is wrong)."""
    manifest = backup.verify(folder)
    click.echo(_("%(dest)s is a complete backup: %(files)s files match the manifest (made %(created)s).",
                 dest=folder, files=len(manifest["files"]) + 1, created=manifest.get("created_at")))


@click.command("restore", help=N_("Restore the backup in SRC into this instance, which must be empty ('exchange init "
                                   "--empty'), then rebuild the search index."))
@click.argument("src", type=click.Path(path_type=Path))
@click.option("--check", "check_only", is_flag=True,
              help=N_("Only check the backup against its manifest; change nothing."))
@with_appcontext
def restore_command(src: Path, check_only: bool) -> None:
    try:
        if check_only:
            _verify(src)
            return
        summary = backup.restore(library.instance, src, _actor())
    except backup.BackupError as error:
        raise click.ClickException(_told(error)) from None
    click.echo(_("Restored %(practices)s practices (%(versions)s versions) and the database from %(src)s; the "
                 "search index is rebuilt.", practices=summary.practices, versions=summary.versions, src=src))


@click.group("cities", help=N_("Partner cities."))
def cities_group() -> None:
    pass


@cities_group.command("add", help=N_("Add partner city SLUG."))
@click.argument("slug")
@click.option("--country", required=True, help=N_("ISO 3166-1 alpha-2 code, e.g. ID."))
@click.option("--name", required=True, help=N_("The city's usual name."))
@click.option("--name-en", help=N_("Name in English."))
@click.option("--name-id", help=N_("Name in Indonesian."))
@click.option("--name-ja", help=N_("Name in Japanese."))
@with_appcontext
def cities_add(slug: str, country: str, name: str, name_en: str | None, name_id: str | None,
               name_ja: str | None) -> None:
    spec = city_service.CitySpec(slug=slug, country=country.upper(), name=name,
                                 name_en=name_en or name, name_id=name_id, name_ja=name_ja)
    try:
        added = city_service.add(library.instance, spec, _actor())
    except InvalidCity as error:
        raise click.ClickException(str(error)) from None
    click.echo(_("Added city %(slug)s.", slug=slug) if added else
               _("City %(slug)s already exists; nothing changed.", slug=slug))


@cities_group.command("list", help=N_("List the partner cities."))
@with_appcontext
def cities_list() -> None:
    for city in city_service.all_cities(library.instance):
        click.echo(f"{city.slug:<20} {city.country}  {city.name_en or city.name} / {city.name_id or '-'}"
                   f" / {city.name_ja or '-'}")


@click.command("reindex", help=N_("Build a fresh search index beside the live one and swap it in; searches keep "
                                   "working meanwhile."))
@with_appcontext
def reindex_command() -> None:
    try:
        count = indexing.rebuild(library.instance, wait=False)
    except ReindexRunning as error:
        raise click.ClickException(str(error)) from None
    click.echo(_("Indexed %(count)s practices; the new index is live.", count=count))


@click.command("check", help=N_("Report drift between library files, database and search index; exit 1 when any "
                                 "remains."))
@click.option("--repair", is_flag=True, help=N_("Fix what is found (library files are the truth for content)."))
@with_appcontext
def check_command(repair: bool) -> None:
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


@click.group("users", help=N_("Accounts (there are no default accounts: create the first administrator here)."))
def users_group() -> None:
    pass


@users_group.command("create", help=N_("Create an account. A password piped on standard input is set; otherwise an "
                                        "invitation link is printed."))
@click.argument("email")
@click.option("--name", required=True, help=N_("The person's name."))
@click.option("--role", "roles", multiple=True, required=True, type=click.Choice(people.ROLES),
              help=N_("The person's role; repeatable."))
@click.option("--city", "cities", multiple=True, help=N_("A city the person contributes for; repeatable."))
@with_appcontext
def users_create(email: str, name: str, roles: tuple[str, ...], cities: tuple[str, ...]) -> None:
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


@users_group.command("disable", help=N_("Disable an account: it can no longer sign in and its sessions end."))
@click.argument("email")
@with_appcontext
def users_disable(email: str) -> None:
    try:
        people.disable(library.instance, email, _actor())
    except people.AccountError as error:
        raise click.ClickException(_told(error)) from None
    click.echo(_("Disabled %(email)s; its sessions have ended.", email=email))


@users_group.command("enable", help=N_("Let a disabled account sign in again (with its password)."))
@click.argument("email")
@with_appcontext
def users_enable(email: str) -> None:
    try:
        enabled = people.enable(library.instance, email, _actor())
    except people.AccountError as error:
        raise click.ClickException(_told(error)) from None
    click.echo(_("%(email)s can sign in again.", email=email) if enabled else
               _("%(email)s was not disabled; nothing changed.", email=email))


@click.command("notify-due", help=N_("Notify each city's contributors of practices due for review (run daily, e.g. "
                                      "from cron)."))
@click.option("--within", default=30, show_default=True, help=N_("Days ahead that count as due."))
@with_appcontext
def notify_due_command(within: int) -> None:
    count = notifications.review_due(library.instance, within)
    click.echo(_("%(count)s notifications sent.", count=count))


@click.group("packs", help=N_("Course packs."))
def packs_group() -> None:
    pass


@packs_group.command("export", help=N_("Export PACK_ID as its owner may read it now (the same limits as on the "
                                        "web)."))
@click.argument("pack_id", type=int)
@click.option("--format", "format_", type=click.Choice(list(exports.FORMATS)), default="pdf", show_default=True,
              help=N_("The file format."))
@click.option("--edition", type=click.Choice(exports.EDITIONS), default="participant", show_default=True,
              help=N_("The participant edition, or the trainer edition with notes and answers."))
@click.option("-o", "output", type=click.Path(path_type=Path), required=True, help=N_("The file to write."))
@with_appcontext
def packs_export(pack_id: int, format_: str, edition: str, output: Path) -> None:
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


@packs_group.command("import", help=N_("Rebuild a pack from a Markdown ZIP (import its practices first with 'exchange "
                                        "import')."))
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--owner", "email", required=True, help=N_("E-mail of the account that will own the pack."))
@with_appcontext
def packs_import(path: Path, email: str) -> None:
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


@click.command("worker", help=N_("Run the job runner: e-mail, pack exports and search index upkeep (SIGTERM stops it "
                                  "cleanly)."))
@click.option("--poll", "poll_seconds", default=runner.POLL_SECONDS, show_default=True, type=float,
              help=N_("Seconds between looks for due jobs."))
@click.option("--until-idle", is_flag=True, help=N_("Run the jobs due now, one after another, then exit."))
@click.option("--until-stdin-closes", is_flag=True, hidden=True,
              help="Also stop when standard input closes (the server that started this runner is gone).")
@with_appcontext
def worker_command(poll_seconds: float, until_idle: bool, until_stdin_closes: bool) -> None:
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
NO_WORKER_HELP = N_("Start no job runner beside the server (when 'exchange worker' runs separately).")


@click.command("serve", help=N_("Serve the library with gunicorn (--workers processes of --threads threads), and "
                                 "one job runner beside it."))
@click.option("--host", default="127.0.0.1", show_default=True, help=N_("The address to listen on."))
@click.option("--port", default=5000, show_default=True, type=int, help=N_("The port to listen on (0: any free port)."))
@click.option("--workers", default=DEFAULT_WORKERS, show_default=True, type=click.IntRange(1, 64),
              help=N_("Worker processes (each answers on about one core)."))
@click.option("--threads", default=4, show_default=True, type=click.IntRange(1, 64),
              help=N_("Threads in each worker process."))
@click.option("--no-worker", is_flag=True, help=NO_WORKER_HELP)
@with_appcontext
def serve_command(host: str, port: int, workers: int, threads: int, no_worker: bool) -> None:
    import logging

    from exchange.server import Server
    from exchange.web import request_log

    # current_app is typed as the Flask app it stands for, so its proxy's own method is unknown to mypy.
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    request_log.configure(logging.INFO)
    _prepare_search(library.instance)
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
        Server(app, host, port, workers, threads, ready, lambda: _forked(app, runner_files)).run()


def _prepare_search(instance: Instance) -> None:
    """Make the search index ready before a server listens, saying so (on standard error) when it has to be
    built first: a first start on an empty PostgreSQL index (or after an upgrade of its analysis) builds it
    here rather than answering from titles and summaries until a job runner does."""
    try:
        instance.search.verify()
    except IndexUnavailable as error:
        click.echo(_("The search index cannot be used yet (%(why)s): building it before the server starts.",
                     why=str(error)), err=True)
        count = prepare_search(instance)
        click.echo(_("Search index built: %(count)s practices.", count=count), err=True)
        return
    prepare_search(instance)


def _forked(app: Flask, runner_files: list[int]) -> None:
    """In a worker as it starts: what it inherited but must not share closed, and its own opened."""
    from exchange.server import close_inherited

    close_inherited(app, runner_files)
    warm_worker(app.extensions["exchange"])


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
        app = context.ensure_object(ScriptInfo).load_app()
        with app.app_context():
            _prepare_search(app.extensions["exchange"])
        with contextlib.ExitStack() as stack:
            _start_runner(stack, app, no_worker)
            signal.signal(signal.SIGTERM, lambda _number, _frame: sys.exit(0))  # stop the runner with the server
            context.invoke(serve, **options)

    no_worker = click.Option(["--no-worker"], is_flag=True, help=NO_WORKER_HELP)
    return click.Command(command.name, callback=run, params=[*command.params, no_worker],
                         help=N_("Run a development server, and a job runner (mail, exports, index upkeep) "
                                 "beside it.\n\nFor development only: 'exchange serve' serves a library for its "
                                 "readers. The reloader and debugger are on with '--debug'."))


#: ``exchange run``: Flask's development server, with a job runner beside it
run_command = _with_runner(flask_run_command)
