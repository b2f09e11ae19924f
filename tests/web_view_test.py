#!/usr/bin/python3
"""The web view in a real browser: `recorder serve` on a database replayed
from tests/data/capture-raw.log, Debian's chromium in headless mode driven
over the DevTools protocol (python3-websocket). It searches for a marker of
the captured log, opens the process, expands its tree, follows a link,
brushes the timeline with the mouse, and checks what is on screen. Before
that, over plain HTTP: a request without the right token is refused (401)
on every listener, every response carries the security headers, only GET
is served, and a token is required off loopback.

usage: web_view_test.py RECORDER_BINARY REPO_ROOT

Runs /usr/bin/python3 (Debian's, which has python3-websocket). Every
process it starts (recorder serve, chromium) is ended by its pid, and its
temporary directories are removed, whether the test passes or not.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

import websocket

MARKER = "recorder-golden-su-nobody"


class Failure(Exception):
    pass


def check(condition, message):
    if not condition:
        raise Failure(message)


def wait_until(what, predicate, timeout=15.0, interval=0.1):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise Failure(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


class Serve:
    """A `recorder serve` of our own; its start message is read from stderr."""

    def __init__(self, binary, work, args, name):
        self.err_path = os.path.join(work, name + ".err")
        self.err = open(self.err_path, "w+")
        self.proc = subprocess.Popen([binary, "serve"] + args, stdout=subprocess.DEVNULL,
                                     stderr=self.err, stdin=subprocess.DEVNULL)
        text = wait_until("recorder serve's URL", lambda: self._started(), timeout=20)
        self.url = re.search(r"open (http://\S+)", text).group(1)
        self.base = re.match(r"(http://[^/]+)/", self.url).group(1)
        self.token = self.url.split("?token=")[1] if "?token=" in self.url else ""

    def _started(self):
        if self.proc.poll() is not None:
            raise Failure(f"recorder serve exited {self.proc.returncode}: {self.stderr()}")
        text = self.stderr()
        return text if "Ctrl-C stops" in text else None

    def stderr(self):
        with open(self.err_path) as f:
            return f.read()

    def stop(self):
        """SIGTERM stops it cleanly (exit 0, "stopped"); returns the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.err.close()
        return self.proc.returncode


def http(url, headers=None, method="GET"):
    """(status, headers, body) of one request; errors are answers too."""
    request = urllib.request.Request(url, headers=headers or {}, method=method)
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request, timeout=10) as response:
            return response.status, response.headers, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read().decode()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def check_headers(where, headers):
    for name, value in SECURITY_HEADERS.items():
        check(value in (headers.get(name) or ""), f"{where}: header {name} is {headers.get(name)!r}")
    check("frame-ancestors 'none'" in headers.get("Content-Security-Policy", ""),
          f"{where}: CSP without frame-ancestors 'none'")


def http_checks(binary, work, db):
    # Loopback, default policy: a generated token in the printed URL.
    serve = Serve(binary, work, ["--db", db, "--listen", "127.0.0.1:0"], "serve-http")
    try:
        check(len(serve.token) == 64, f"no generated token in {serve.url}")
        bearer = {"Authorization": "Bearer " + serve.token}
        for path in ["/", "/app.js", "/api/search?q=" + MARKER]:
            status, headers, _ = http(serve.base + path)
            check(status == 401, f"{path} without a token: {status}, not 401")
            check_headers(path + " (401)", headers)
        status, _, _ = http(serve.base + "/api/search?q=x", {"Authorization": "Bearer " + "0" * 64})
        check(status == 401, f"a wrong token: {status}, not 401")
        status, headers, body = http(serve.base + "/api/search?q=" + MARKER, bearer)
        check(status == 200 and MARKER in body, f"search with the token: {status} {body[:200]}")
        check_headers("/api/search", headers)
        status, headers, body = http(serve.base + "/api/timeline?since=yesterday-ish", bearer)
        check(status == 400 and "bad since" in json.loads(body)["error"],
              f"a bad time: {status} {body[:200]}")
        check_headers("400", headers)
        status, headers, _ = http(serve.base + "/api/search?q=x", bearer, method="POST")
        check(status == 405, f"POST: {status}, not 405")
        check_headers("405", headers)
        status, headers, _ = http(serve.url)
        check(status == 303 and "HttpOnly" in headers.get("Set-Cookie", ""),
              f"the printed URL: {status} {headers.get('Set-Cookie')}")
        status, _, _ = http(serve.base + "/", dict(bearer, Host="evil.example:80"))
        check(status == 403, f"a foreign Host header: {status}, not 403")
    finally:
        code = serve.stop()
    check(code == 0 and "stopped" in serve.stderr(), f"SIGTERM: exit {code}, {serve.stderr()}")

    # Another address with a given token: still refused without it, and
    # the given token is not printed.
    token = "a-token-of-our-own-1234"
    serve = Serve(binary, work, ["--db", db, "--listen", "127.0.0.2:0", "--token", token],
                  "serve-token")
    try:
        check(token not in serve.stderr(), "a given --token was printed")
        status, _, _ = http(serve.base + "/api/search?q=" + MARKER)
        check(status == 401, f"127.0.0.2 without the token: {status}, not 401")
        status, _, _ = http(serve.base + "/api/search?q=" + MARKER,
                            {"Authorization": "Bearer " + token})
        check(status == 200, f"127.0.0.2 with the token: {status}")
    finally:
        serve.stop()

    # Off loopback a token is required: --no-token is refused before
    # anything listens.
    result = subprocess.run([binary, "serve", "--db", db, "--listen", "0.0.0.0:0", "--no-token"],
                            capture_output=True, text=True, timeout=20)
    check(result.returncode == 2 and "loopback" in result.stderr,
          f"--listen 0.0.0.0 --no-token: exit {result.returncode}, {result.stderr}")


class Browser:
    """Headless chromium with a fresh profile; one page driven over CDP."""

    def __init__(self, work):
        self.profile = tempfile.mkdtemp(prefix="recorder-web-chromium.", dir=work)
        self.proc = subprocess.Popen(
            ["/usr/bin/chromium", "--headless=new", "--no-sandbox", "--disable-gpu",
             "--no-first-run", "--no-default-browser-check", "--disable-extensions",
             "--disable-background-networking", "--disable-sync", "--window-size=1280,900",
             f"--user-data-dir={self.profile}", "--remote-debugging-port=0", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
            # Its singleton socket directory goes under TMPDIR: in work, removed with it.
            env=dict(os.environ, TMPDIR=work), start_new_session=True)
        port_file = os.path.join(self.profile, "DevToolsActivePort")
        wait_until("chromium's DevTools port",
                   lambda: os.path.exists(port_file) and open(port_file).read().count("\n") >= 1,
                   timeout=60)
        port = open(port_file).read().split("\n")[0].strip()
        targets = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list",
                                                   timeout=10))
        page = next(t for t in targets if t["type"] == "page")
        self.ws = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=30,
                                              suppress_origin=True)
        self.next_id = 0
        self.events = []
        self.send("Page.enable")
        self.send("Runtime.enable")
        self.send("Log.enable")

    def send(self, method, params=None):
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params or {}}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise Failure(f"{method}: {message['error']}")
                return message.get("result", {})
            if "method" in message:
                self.events.append(message)

    def eval(self, expression):
        result = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                                "awaitPromise": True})
        if "exceptionDetails" in result:
            raise Failure(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait(self, what, expression, timeout=15.0):
        return wait_until(what, lambda: self.eval(expression), timeout=timeout)

    def center(self, selector_expression):
        """Scrolls the element into view; its centre in viewport pixels."""
        box = self.eval(f"""(() => {{ const e = {selector_expression};
            if (!e) return null; e.scrollIntoView({{block: 'center'}});
            const r = e.getBoundingClientRect();
            return [r.left + r.width / 2, r.top + r.height / 2, r.width, r.height]; }})()""")
        check(box is not None, f"no element {selector_expression}")
        return box

    def mouse(self, kind, x, y, buttons=0):
        self.send("Input.dispatchMouseEvent", {
            "type": kind, "x": x, "y": y, "button": "left" if kind != "mouseMoved" or buttons
            else "none", "buttons": buttons, "clickCount": 1 if kind != "mouseMoved" else 0})

    def click(self, selector_expression):
        x, y, _, _ = self.center(selector_expression)
        self.mouse("mouseMoved", x, y)
        self.mouse("mousePressed", x, y, 1)
        self.mouse("mouseReleased", x, y)

    def problems(self):
        """Script exceptions and console errors (a CSP violation is one)."""
        out = []
        for event in self.events:
            if event["method"] == "Runtime.exceptionThrown":
                out.append(event["params"]["exceptionDetails"].get("text", "exception"))
            elif event["method"] == "Log.entryAdded" and event["params"]["entry"]["level"] == "error":
                out.append(event["params"]["entry"]["text"])
        return out

    def close(self):
        try:
            self.ws.close()
        except Exception:
            pass
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        # The browser's helpers (renderer, zygote) are in the session it leads.
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def text_of(browser, selector):
    return browser.eval(f"(document.querySelector({json.dumps(selector)}) || {{}}).innerText || ''")


def browser_checks(binary, work, db):
    serve = Serve(binary, work, ["--db", db, "--listen", "127.0.0.1:0"], "serve-browser")
    browser = None
    try:
        browser = Browser(work)
        browser.send("Page.navigate", {"url": serve.url})
        # The token became a cookie and the URL lost it; the timeline shows.
        browser.wait("the timeline's events", "document.querySelectorAll('#events tr.event').length > 0")
        check("token" not in browser.eval("location.href"), "the token stayed in the URL")
        bars = browser.eval("document.querySelectorAll('#histogram rect.bar').length")
        check(bars > 0, "the histogram has no bars")
        check(text_of(browser, "#range") == "everything recorded", text_of(browser, "#range"))

        # Search: type the marker and press Enter.
        browser.click("document.getElementById('search-input')")
        browser.send("Input.insertText", {"text": MARKER})
        for kind in ("keyDown", "keyUp"):
            browser.send("Input.dispatchKeyEvent", {"type": kind, "key": "Enter", "code": "Enter",
                                                    "windowsVirtualKeyCode": 13, "text": "\r"})
        browser.wait("the search results",
                     f"(document.getElementById('search-term') || {{}}).textContent === '{MARKER}'")
        hits = text_of(browser, "table.hits[data-kind='process']")
        for exe in ("/usr/bin/su", "/usr/bin/dash", "/usr/bin/true"):
            check(exe in hits, f"search hits lack {exe}: {hits}")

        # Open su, the process the marker's command ran under.
        browser.click("[...document.querySelectorAll(\"table.hits[data-kind='process'] tr\")]"
                      ".find(r => r.innerText.includes('/usr/bin/su'))"
                      ".querySelector('a.process-link')")
        browser.wait("the process view", "(document.getElementById('process-title') || {})"
                     ".textContent === '#53 /usr/bin/su'")
        facts = text_of(browser, "#facts")
        check(f"su -s /bin/sh -c '/bin/true {MARKER}' nobody" in facts, f"facts: {facts}")
        # Above su's recorded parent (#57, a bash seen only by its exit) the
        # bash instance of its ppid alive at its start is shown, marked as
        # inferred.
        su_ancestry = text_of(browser, "#ancestry")
        check(re.search(r"#16 pid 13005 .*/usr/bin/bash.*\n#57 pid 13096 .*/usr/bin/bash.*"
                        r"\[parent inferred from ppid and start time\]\n#53 pid 13097 .*/usr/bin/su",
                        su_ancestry), "su's ancestry: " + su_ancestry)
        activity = text_of(browser, "#activity")
        check("exec" in activity and "exit" in activity, f"activity: {activity}")

        # The tree: sh (#55) is shown, its child true (#56) only once expanded.
        tree = text_of(browser, "#tree")
        check("/usr/bin/dash" in tree and "/usr/bin/true" not in tree, f"tree before: {tree}")
        browser.click("document.querySelector(\"#tree li[data-process-id='55'] > button.toggle\")")
        browser.wait("the expanded tree", "document.getElementById('tree').innerText"
                     ".includes('/usr/bin/true')")
        check(f"/bin/true {MARKER}" in text_of(browser, "#tree"), "tree after: " + tree)

        # Links: a child in the tree opens that process.
        browser.click("document.querySelector(\"#tree li[data-process-id='56'] a.process-link\")")
        browser.wait("process 56", "(document.getElementById('process-title') || {})"
                     ".textContent === '#56 /usr/bin/true'")
        ancestry = text_of(browser, "#ancestry")
        check(re.search(r"#53 pid 13097 .*/usr/bin/su.*\n#55 pid 13098 .*/usr/bin/dash.*\n"
                        r"#56 pid 13100 .*/usr/bin/true", ancestry), f"true's ancestry: {ancestry}")

        # Brush the timeline: drag across the middle of the histogram.
        browser.click("document.querySelector(\"nav a[href='#/timeline']\")")
        browser.wait("the timeline again", "document.querySelectorAll('#histogram rect.bar')"
                     ".length > 0 && (document.getElementById('range') || {}).textContent === "
                     "'everything recorded'")
        before = browser.eval("document.querySelectorAll('#events tr.event').length")
        x, y, width, _ = browser.center("document.querySelector('#histogram svg')")
        left = x - width / 2
        start, end = left + width * 0.30, left + width * 0.55
        browser.mouse("mouseMoved", start, y)
        browser.mouse("mousePressed", start, y, 1)
        for step in range(1, 6):
            browser.mouse("mouseMoved", start + (end - start) * step / 5, y, 1)
        browser.mouse("mouseReleased", end, y)
        browser.wait("the zoomed timeline",
                     "(document.getElementById('range') || {}).textContent.startsWith('from ')")
        browser.wait("its events", "document.querySelectorAll('#events tr.event').length > 0")
        since, until = browser.eval(
            "[new URLSearchParams(location.hash.split('?')[1]).get('since'),"
            " new URLSearchParams(location.hash.split('?')[1]).get('until')]")
        since_ms, until_ms = float(since) * 1000, float(until) * 1000
        times = browser.eval("[...document.querySelectorAll('#events tr.event td.time')]"
                             ".map(td => Date.parse(td.textContent))")
        check(all(since_ms - 1 <= t <= until_ms + 1 for t in times),
              f"events outside {since}..{until}: {times[:5]}")
        check(until_ms - since_ms < 7000, f"the brush did not narrow the range: {since}..{until}")
        check(browser.eval("!!document.getElementById('zoom-out')"), "no zoom-out link")
        after = browser.eval("document.querySelectorAll('#events tr.event').length")
        check(0 < after <= before, f"{after} events zoomed in, {before} before")

        check(not browser.problems(), f"the page logged errors: {browser.problems()}")
    finally:
        if browser is not None:
            browser.close()
        serve.stop()


def main():
    binary, root = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    work = tempfile.mkdtemp(prefix="recorder-web-test.")
    try:
        db = os.path.join(work, "monitor.db")
        subprocess.run([binary, "replay", "--db", db,
                        os.path.join(root, "tests", "data", "capture-raw.log")],
                       check=True, capture_output=True, timeout=120)
        http_checks(binary, work, db)
        browser_checks(binary, work, db)
    except Failure as failure:
        print(f"FAIL: {failure}")
        return 1
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("web view: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
