"""The subject's page in a real browser: Debian's Chromium driven by Playwright (from PyPI),
against a real Anvil holding real recorded results. Every request the page makes is
intercepted and checked: none carries anything from the secret file (the salt never; in the
default, private lookup not even the commitment). Run: `scripts/bootstrap --browser` (Debian's
chromium via apt-get, as root), then `.venv/bin/python -m pytest -m browser` (.ci/run does)."""

import json
import re
import shutil
from pathlib import Path

import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # reported by the browser fixture
    expect = None

pytestmark = [pytest.mark.browser, pytest.mark.integration]

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


@pytest.fixture(scope="module")
def recorded(breast_cancer, tmp_path_factory):
    """A registry on a real Anvil: version 1 (breast_cancer, its own verifier) recorded subject
    A and is retired; version 2 (the same model on the shared verifier) recorded A too."""
    from zkml.evm import registry, rpc
    from zkml.evm.anvil import Anvil

    root = tmp_path_factory.mktemp("page")
    circuits = root / "circuits"
    shutil.copytree(breast_cancer.root, circuits / "breast_cancer")
    from zkml.layout import ModelLayout

    layout = ModelLayout(circuits / "breast_cancer")
    with Anvil() as node:
        chain = rpc.connect(node.url)
        first = registry.deploy(chain, layout)
        v1 = registry.submit(chain, first, layout, layout.proof)
        second = registry.add_version(chain, first.registry, layout, verifier="shared")
        v2 = registry.submit(chain, second, layout, layout.proof)
        registry.retire_version(chain, first.registry, 1, circuits)
        secret = json.loads((layout.root / "proof.secret.json").read_text())["subjects"][0]
        yield {"url": node.url, "registry": first.registry, "v1": v1, "v2": v2,
               "salt": secret["salt"], "commitment": secret["commitment"],
               "secret": layout.root / "proof.secret.json", "root": root}


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run `scripts/bootstrap --browser` (as root it "
                    "installs Debian's chromium with apt-get)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        yield launched
        launched.close()


def forbidden(secret: dict, private: bool) -> list[str]:
    """What no request may contain: the salt in every spelling (and, in a private lookup, the
    commitment)."""
    salt = int(secret["salt"], 16)
    found = [f"{salt:064x}", f"{salt:x}", str(salt)]
    if private:
        found.append(f"{int(secret['commitment'], 16):064x}")
    return found


def open_page(browser, url, log):
    """A fresh page whose every request is intercepted, recorded and let through."""
    context = browser.new_context()
    page = context.new_page()
    requests = []

    def route(route, request):
        requests.append({"url": request.url, "method": request.method,
                         "body": request.post_data or ""})
        route.continue_()

    context.route("**/*", route)
    page.on("pageerror", lambda error: log.append(f"page error: {error}"))
    page.on("console", lambda message: log.append(f"console {message.type}: {message.text}"))
    page.goto(url)
    return context, page, requests


def drop_secret(page, path: Path):
    """The subject drops proof.secret.json on the page (a real drop event, a File inside)."""
    page.evaluate("""([name, text]) => {
        const dt = new DataTransfer();
        dt.items.add(new File([text], name, {type: "application/json"}));
        const zone = document.getElementById("drop-zone");
        for (const kind of ["dragenter", "dragover", "drop"]) {
            zone.dispatchEvent(new DragEvent(kind, {dataTransfer: dt, bubbles: true,
                                                    cancelable: true}));
        }
    }""", [path.name, path.read_text()])


def wait_for_results(page, log):
    """Until the page shows results; else fail with what it said."""
    try:
        page.wait_for_selector("article.result", timeout=20_000)
    except Exception:
        pytest.fail(f"no result shown; status: {page.inner_text('#status')!r}; log: {log}")


def read_results(page):
    """What the page shows, as a person reads it."""
    return page.eval_on_selector_all("article.result", """cards => cards.map(card => ({
        version: card.dataset.version,
        commitment: card.dataset.commitment,
        heading: card.querySelector("h3").innerText,
        rows: Array.from(card.querySelectorAll("tr")).map(tr => tr.innerText.split("\\t")),
        prediction: (card.querySelector(".prediction") || {}).innerText,
        record: card.querySelector(".record").innerText,
        model: card.querySelector(".model").innerText,
        code: card.querySelector(".code").innerText,
    }))""")


def check_results(shown, recorded, log):
    by_version = {card["version"]: card for card in shown}
    assert set(by_version) == {"1", "2"}, shown
    assert by_version["2"]["heading"].startswith("Version 2 — active")
    assert re.match(r"Version 1 — retired at block \d+", by_version["1"]["heading"])
    for version in ("1", "2"):
        card = by_version[version]
        outcome = recorded[f"v{version}"]
        subject = outcome.subjects[0]
        assert card["commitment"] == recorded["commitment"]
        labels = [row[0] for row in card["rows"]]
        values = [float(row[1]) for row in card["rows"]]
        assert labels == ["malignant", "benign"]
        assert values == [round(v, 4) for v in subject.outputs]
        assert card["prediction"] == "Prediction: " + labels[values.index(max(values))]
        assert f"recorded in block {outcome.block}" in card["record"]
        assert outcome.transaction in card["record"]
        assert card["code"].endswith("the code there is still that code.")  # as recorded
        shown = dict(zip(labels, values, strict=True))
        log.append(f"read version {version}: {card['heading']!r}, {shown}, "
                   f"{card['prediction']!r}, {card['record']!r}")
    assert "the shared verifier" in by_version["2"]["model"]
    assert "its own verifier" in by_version["1"]["model"]


def check_requests(requests, recorded, allowed_origins, private):
    assert requests, "no request was intercepted"
    for request in requests:
        assert any(request["url"].startswith(o) for o in allowed_origins), request["url"]
        text = (request["url"] + request["body"]).lower()
        for secret in forbidden(recorded, private):
            assert secret not in text, f"{request['url']} carries the secret file's {secret[:8]}…"


def test_the_subject_reads_their_result_served(recorded, browser):
    """`zkml serve`'s page, prefilled with the registry and the server's own /rpc, which
    relays its reads to the node (whose URL the page never sees); the subject drops the file."""
    from zkml import web

    log = []
    config = web.page_config(recorded["url"], recorded["registry"])
    with web.serve(0, config, recorded["url"]) as server:
        context, page, requests = open_page(browser, server.url, log)
        try:
            expect(page.locator("#rpc-url")).not_to_have_value("")  # (no eval: the CSP forbids)
            assert page.input_value("#rpc-url") == server.url + "rpc"
            assert page.input_value("#registry") == recorded["registry"]
            log.append(f"opened {server.url}: its /rpc and the registry prefilled from "
                       "config.json")
            drop_secret(page, recorded["secret"])
            log.append("dropped proof.secret.json on the drop zone")
            wait_for_results(page, log)
            status = page.inner_text("#status")
            log.append(f"status: {status!r}")
            assert status.startswith("2 result(s) for your 1 commitment(s)")
            check_results(read_results(page), recorded, log)
            assert "zkml commitment breast_cancer --input" not in page.inner_text("#check-command")
            assert "zkml commitment" in page.inner_text("#check-command")
            page.screenshot(path=str(recorded["root"] / "subject-page.png"), full_page=True)
            # the private lookup read every result event; it sent nothing of the file
            methods = [json.loads(r["body"])["method"] for r in requests if r["body"]]
            assert "eth_getLogs" in methods and "eth_call" in methods
            check_requests(requests, recorded, [server.url], private=True)  # never the node
            log.append(f"{len(requests)} requests intercepted ({', '.join(sorted(set(methods)))}"
                       "): none holds the salt or the commitment")
            # direct lookup: ticked, then "Look up" clicked: the commitment goes, the salt not
            requests.clear()
            page.check("#mode-direct")
            page.click("#look-up")
            expect(page.locator("#status")).to_have_text(re.compile(r"^2 result\(s\)"))
            check_results(read_results(page), recorded, log)
            check_requests(requests, recorded, [server.url], private=False)
            assert any(f"{int(recorded['commitment'], 16):064x}" in r["body"] for r in requests)
            log.append(f"ticked 'ask the node for my commitment only', clicked Look up: "
                       f"{len(requests)} requests, the commitment in some, the salt in none")
        finally:
            context.close()
    assert not [line for line in log if line.startswith("page error")], log
    print("\nbrowser: " + "\nbrowser: ".join(log))


def test_the_page_opened_as_a_file(recorded, browser, tmp_path):
    """index.html opened from disk, the node and registry in its address; a malformed file is
    refused on the page."""
    from zkml import web

    log = []
    url = (web.web_dir() / "index.html").as_uri() + \
        f"?rpc={recorded['url']}&registry={recorded['registry']}"
    context, page, requests = open_page(browser, url, log)
    try:
        page.set_input_files("#secret-file", str(recorded["secret"]))  # the file chooser
        wait_for_results(page, log)
        check_results(read_results(page), recorded, log)
        network = [r for r in requests if not r["url"].startswith("file:")]
        check_requests(network, recorded, [recorded["url"]], private=True)
        bad = tmp_path / "proof.secret.json"
        bad.write_text('{"subjects": [{"salt": "0x1", "commitment": "not hex"}]}')
        page.set_input_files("#secret-file", str(bad))
        expect(page.locator("#status")).to_have_class("error")
        assert "malformed commitment" in page.inner_text("#status")
    finally:
        context.close()
    assert not [line for line in log if line.startswith("page error")], log
