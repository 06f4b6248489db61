"""report.html: one self-contained offline page, checked as text and in a real headless Chromium (issue 16, part 4).

The browser is Debian's ``chromium`` (``.ci/run`` installs it), driven through the Chrome DevTools
protocol over a pipe (``--remote-debugging-pipe``: JSON messages ending in NUL on file
descriptors 3 and 4), so the test needs no driver package and opens no port.
"""
import base64
import fcntl
import json
import os
import queue
import re
import shutil
import subprocess
import threading
import time

import pytest

import verify
from verify import registry
from verify.registry import Claim, decide
from verify.report_html import compact_png

CLAIMS = {"zzhtml.alpha": "verified", "zzhtml.beta": "not verified", "zzhtml.gamma": "not verified",
          "zzhtmlother.delta": "verified"}


def _figure(title):
    from verify.report import subplots

    fig, ax = subplots(figsize=(4, 2.5))
    ax.plot(range(50), [1.0 / (k + 1) for k in range(50)])
    ax.set(title=title, xlabel="k (steps)", ylabel="statistic (units)")
    return fig, f"{title}: passing looks like a falling curve"


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """A report of four throw-away claims in two families: verified, not verified (a failing check and an
    experiment that raises), at two seeds, with figures."""
    made = []

    def claim(cid, check, control=lambda ctx: decide(2.0, 1.0)):
        c = Claim(cid, statement=f"statement of {cid} <with markup & quotes \">", source="a test",
                  assumptions=["first assumption", "second assumption"], sizes={"quick": {}, "full": {}})
        made.append(cid)
        part = c.part("part one", statistic="a number; lower is good; threshold 1")(check)
        part.control(breaks="one assumption broken")(control)

    claim("zzhtml.alpha", lambda ctx: decide(0.5, 1.0, ci=(0.4, 0.6), figures=ctx.figures(_figure("alpha"))))
    claim("zzhtml.beta", lambda ctx: decide(3.0, 1.0, ci=(2.0, 4.0)))
    claim("zzhtml.gamma", lambda ctx: 1 / 0)
    claim("zzhtmlother.delta", lambda ctx: decide(0.1, 1.0, figures=ctx.figures(_figure("delta"))))
    out = tmp_path_factory.mktemp("html") / "report"
    try:
        results = verify.run_claims(["zzhtml", "zzhtmlother"], seeds="0:2", report_dir=out, progress=False)
    finally:
        for cid in made:
            registry.unregister(cid)
    assert {r.claim.id: r.status for r in results} == CLAIMS
    return out / "report.html"


def test_the_page_is_self_contained_and_small(report):
    page = report.read_text()
    assert page.startswith("<!DOCTYPE html>")
    assert "Content-Security-Policy" in page and "default-src 'none'" in page
    assert not re.search(r"https?://", page)  # no address to fetch anything from
    assert all(src.startswith("data:") for src in re.findall(r'\bsrc="([^"]*)"', page))
    assert all(href.startswith(("#", "data:")) for href in re.findall(r'\bhref="([^"]*)"', page))
    assert page.count('<tr data-family="') == len(CLAIMS)
    assert page.count('src="data:image/png;base64,') == 2  # figures are drawn at the first seed only
    assert "&lt;with markup &amp; quotes &quot;&gt;" in page and "<with markup" not in page
    assert "ZeroDivisionError" in page  # the error's traceback is shown
    assert len(page.encode()) < 150_000


def test_compact_png_keeps_a_valid_smaller_image():
    import io

    from PIL import Image

    fig, _ = _figure("size")
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    small = compact_png(buf.getvalue())
    assert len(small) <= len(buf.getvalue())
    assert Image.open(io.BytesIO(small)).size == Image.open(io.BytesIO(buf.getvalue())).size


# ============================================================================ headless Chromium
def _chromium():
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    return "/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None


class Browser:
    """Headless Chromium driven by the DevTools protocol over a pipe; collects console errors and requests."""

    def __init__(self, binary, profile):
        to_child_r, self._write = os.pipe()
        self._read, from_child_w = os.pipe()

        def on_fds_3_and_4():  # the pipe the browser reads is fd 3, the one it writes fd 4
            a = fcntl.fcntl(to_child_r, fcntl.F_DUPFD, 10)
            b = fcntl.fcntl(from_child_w, fcntl.F_DUPFD, 10)
            os.dup2(a, 3)
            os.dup2(b, 4)

        args = [binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                f"--user-data-dir={profile}", "--remote-debugging-pipe", "--window-size=1280,900", "about:blank"]
        self.proc = subprocess.Popen(args, pass_fds=(3, 4), preexec_fn=on_fds_3_and_4, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        os.close(to_child_r)
        os.close(from_child_w)
        self._messages, self._next, self.events = queue.Queue(), 0, []
        threading.Thread(target=self._reader, daemon=True).start()
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Runtime", "Log", "Page", "Network"):
            self.send(f"{domain}.enable", session=True)

    def _reader(self):
        buf = b""
        while True:
            chunk = os.read(self._read, 1 << 16)
            if not chunk:
                self._messages.put(None)
                return
            buf += chunk
            while b"\0" in buf:
                message, buf = buf.split(b"\0", 1)
                self._messages.put(json.loads(message))

    def _take(self, until, timeout):
        end = time.monotonic() + timeout
        while True:
            message = self._messages.get(timeout=max(0.05, end - time.monotonic()))
            if message is None:
                raise RuntimeError("the browser closed the pipe")
            if until(message):
                return message
            self.events.append(message)

    def send(self, method, params=None, session=False, timeout=60):
        self._next += 1
        message = {"id": self._next, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = self.session
        os.write(self._write, json.dumps(message).encode() + b"\0")
        reply = self._take(lambda m: m.get("id") == message["id"], timeout)
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        return reply["result"]

    def wait_for(self, event, timeout=60):
        for i, message in enumerate(self.events):
            if message.get("method") == event:
                return self.events.pop(i)
        return self._take(lambda m: m.get("method") == event, timeout)

    def evaluate(self, expression):
        result = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                                "awaitPromise": True}, session=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def console_errors(self):
        out = []
        for m in self.events:
            p = m.get("params", {})
            if m.get("method") == "Runtime.exceptionThrown":
                out.append(p["exceptionDetails"].get("text"))
            elif m.get("method") == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
                out.append(str(p.get("args")))
            elif m.get("method") == "Log.entryAdded" and p["entry"].get("level") == "error":
                out.append(p["entry"].get("text"))
        return out

    def requests(self):
        return [m["params"]["request"]["url"] for m in self.events if m.get("method") == "Network.requestWillBeSent"]

    def close(self):
        try:
            self.send("Browser.close", timeout=10)
        except (RuntimeError, queue.Empty):
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._write)


VISIBLE_ROWS = "Array.from(document.querySelectorAll('#claims tbody tr')).filter(r => !r.hidden)"


def _choose(browser, select_id, value):
    browser.evaluate(f"(() => {{ const s = document.getElementById('{select_id}'); s.value = {json.dumps(value)}; "
                     "s.dispatchEvent(new Event('change')); })()")
    return browser.evaluate(f"{VISIBLE_ROWS}.map(r => [r.dataset.family, r.dataset.verdict])")


def test_the_report_in_headless_chromium(report, tmp_path):
    binary = _chromium()
    if binary is None:
        pytest.skip("no Chromium on this machine: the browser test needs Debian's chromium package "
                    "(apt-get install chromium; .ci/run installs it)")
    browser = Browser(binary, tmp_path / "profile")
    try:
        browser.send("Page.navigate", {"url": report.as_uri()}, session=True)
        browser.wait_for("Page.loadEventFired")
        assert browser.evaluate("document.querySelectorAll('#claims tbody tr').length") == len(CLAIMS)
        assert browser.evaluate("document.getElementById('shown').textContent") == "4 of 4 claims shown"
        images = browser.evaluate("Promise.all(Array.from(document.images).map(i => i.decode().then(() => "
                                  "i.naturalWidth)))")
        assert len(images) == 2 and all(w > 100 for w in images)
        # filter by verdict: only those rows (and only those claims' sections)
        rows = _choose(browser, "verdict-filter", "not verified")
        assert sorted(rows) == [["zzhtml", "not verified"], ["zzhtml", "not verified"]]
        assert browser.evaluate("Array.from(document.querySelectorAll('article.claim')).filter(a => !a.hidden)"
                                ".every(a => a.dataset.verdict === 'not verified')")
        rows = _choose(browser, "family-filter", "zzhtmlother")
        assert rows == []  # both filters apply: that family has no claim that is not verified
        _choose(browser, "verdict-filter", "")
        rows = _choose(browser, "family-filter", "zzhtmlother")
        assert rows == [["zzhtmlother", "verified"]]
        _choose(browser, "family-filter", "")
        # sort by the claim column, then reverse it
        header = "document.querySelectorAll('#claims thead th')[0]"
        ids = f"{VISIBLE_ROWS}.map(r => r.cells[0].dataset.value)"
        browser.evaluate(f"{header}.querySelector('button').click()")
        assert browser.evaluate(ids) == sorted(CLAIMS)
        browser.evaluate(f"{header}.querySelector('button').click()")
        assert browser.evaluate(ids) == sorted(CLAIMS, reverse=True)
        assert browser.evaluate(f"{header}.getAttribute('aria-sort')") == "descending"
        shot = base64.b64decode(browser.send("Page.captureScreenshot", {"format": "png"}, session=True)["data"])
        pdf = base64.b64decode(browser.send("Page.printToPDF", {}, session=True)["data"])
        errors, requests = browser.console_errors(), browser.requests()
    finally:
        browser.close()
    (tmp_path / "report.png").write_bytes(shot)
    assert shot[:8] == b"\x89PNG\r\n\x1a\n" and len(shot) > 10_000
    assert pdf[:5] == b"%PDF-"
    assert errors == [], errors
    assert all(url.startswith(("file:", "data:")) for url in requests), requests
