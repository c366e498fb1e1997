"""Browser tests: Playwright driving Debian's Chromium against a real HTTP server on 127.0.0.1.

They run on SQLite only: they follow people's journeys through the pages, and every service and page
they pass through is tested on both SQLite and PostgreSQL by the tests beside them.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from pathlib import Path

import pytest
from playwright.sync_api import expect
from werkzeug.serving import WSGIRequestHandler
from werkzeug.serving import make_server

from exchange.app import create_app
from exchange.initialise import initialise
from exchange.jobs import embedded

CHROMIUM = os.environ.get("EXCHANGE_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
#: axe-core as scripts/test installs it with npm (package.json, package-lock.json at the top level)
AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
#: the rules axe runs: WCAG 2.0 A and AA, and WCAG 2.1 AA
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
SCREENSHOTS = Path(os.environ.get("EXCHANGE_SCREENSHOTS") or Path(tempfile.gettempdir()) / "px-screenshots")

# An expectation waits for what the page must come to show; Playwright's 5 s is a speed budget that a
# loaded machine misses (the first live preview also starts a render worker).
expect.set_options(timeout=60_000)


def pytest_collection_modifyitems(items):  # type: ignore[no-untyped-def]
    for item in items:
        if "browser" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session", autouse=True)
def _chromium_is_installed():  # type: ignore[no-untyped-def]
    if Path(CHROMIUM).exists():
        return
    message = (f"Chromium not found at {CHROMIUM}: browser tests cannot run. Install it with "
               "'apt-get install chromium' (scripts/test does this) or set EXCHANGE_CHROMIUM.")
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message, pytrace=False)
    pytest.skip("!!! SKIPPING BROWSER TESTS !!! " + message)


@pytest.fixture(scope="session")
def axe():  # type: ignore[no-untyped-def]
    """axe(page) runs axe-core in the page and gives its serious and critical violations, described."""
    if not AXE.exists():
        message = (f"axe-core not found at {AXE}: the accessibility tests cannot run. Install it with "
                   "'npm ci' at the top of the repository (scripts/test does this).")
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip("!!! SKIPPING ACCESSIBILITY TESTS !!! " + message)
    return serious_violations


def serious_violations(page) -> list[str]:  # type: ignore[no-untyped-def]
    """axe-core's serious and critical WCAG 2.1 AA violations on the page, one line per element."""
    if not page.evaluate("typeof window.axe === 'object'"):
        page.add_script_tag(path=str(AXE))
    violations = page.evaluate(
        """async tags => {
             const result = await axe.run(document, {runOnly: {type: 'tag', values: tags},
                                                     resultTypes: ['violations']});
             return result.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
               .map(v => ({id: v.id, impact: v.impact, help: v.help, url: v.helpUrl,
                           nodes: v.nodes.map(n => ({target: n.target.join(' '), summary: n.failureSummary}))}));
           }""", AXE_TAGS)
    return [f"{v['id']} ({v['impact']}): {v['help']} ({v['url']})\n"
            + "\n".join(f"    at {node['target']}: {' '.join(node['summary'].split())[:300]}"
                        for node in v["nodes"][:5])
            + (f"\n    and {len(v['nodes']) - 5} more" if len(v["nodes"]) > 5 else "")
            for v in violations]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):  # type: ignore[no-untyped-def]
    # The resolver rule stops Chromium's background calls to Google; 127.0.0.1 still resolves.
    return {**browser_type_launch_args, "executable_path": CHROMIUM,
            "args": ["--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"]}


@pytest.fixture(scope="session")
def live_instance(live_server):  # type: ignore[no-untyped-def]
    """The instance behind the live server (for arranging data a test needs)."""
    return live_server_app[0].extensions["exchange"]


live_server_app: list = []


class _Closing:
    """The app, remembering in each server thread the response it is sending (``_Handler``)."""

    sending = threading.local()

    def __init__(self, app) -> None:  # type: ignore[no-untyped-def]
        self.app = app

    def __call__(self, environ, start_response):  # type: ignore[no-untyped-def]
        self.sending.response = self.app(environ, start_response)
        return self.sending.response


class _Handler(WSGIRequestHandler):
    """Werkzeug's development server closes a response only after reading what is left of the request, and
    that read raises first when the browser has reset the connection (Chromium drops a favicon it no longer
    needs when a page moves on): the static file's handle was then left open, to be reported as an
    unclosed file by whichever test ran when it was collected. Closed here, as it would have been."""

    def connection_dropped(self, error, environ=None) -> None:  # type: ignore[no-untyped-def]
        response = getattr(_Closing.sending, "response", None)
        if hasattr(response, "close"):
            response.close()


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):  # type: ignore[no-untyped-def]
    """The bundled library served over real HTTP on a free port."""
    app = create_app({"INSTANCE": tmp_path_factory.mktemp("browser-instance")})
    initialise(app.extensions["exchange"], "test", seed=True)
    server = make_server("127.0.0.1", 0, _Closing(app), threaded=True, request_handler=_Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    live_server_app.append(app)
    # As `exchange serve` does: a job runner process beside the server (exports, mail).
    with embedded.runner_process(app.extensions["exchange"].path, None, app.config["EXCHANGE_BASE_URL"]):
        yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()
    app.extensions["exchange"].search.close()
    app.extensions["exchange"].db.dispose()


@pytest.fixture
def screenshot(page):  # type: ignore[no-untyped-def]
    """Save a full-page screenshot to look at: screenshot("name")."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
