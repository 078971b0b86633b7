"""Headless Chromium driven over the DevTools protocol, with only the Python stdlib.

Starts Debian's `chromium` with no network features and a fresh profile, connects to its
browser websocket (a minimal RFC 6455 client below), opens one page target in a flattened
session, and records console errors, uncaught exceptions, log errors, failed requests and
dialogs while the page loads. Used by tests/cli/report_browser.sh.
"""
import base64
import json
import os
import re
import shutil
import socket
import struct
import subprocess
import tempfile
import time

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-default-apps", "--disable-extensions", "--mute-audio",
    "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
]


def find_chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


class WebSocket:
    """Just enough of RFC 6455 for DevTools: client-masked text frames, fragmented and
    64-bit-length server frames, ping/pong and close."""

    def __init__(self, url, timeout=30):
        match = re.match(r"ws://([^:/]+):(\d+)(/.*)", url)
        if not match:
            raise ValueError("not a ws:// URL: " + url)
        host, port, path = match.group(1), int(match.group(2)), match.group(3)
        self.sock = socket.create_connection((host, port), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        request = (f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
                   f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n")
        self.sock.sendall(request.encode())
        response = b""
        while b"\r\n\r\n" not in response:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError("websocket handshake: connection closed")
            response += chunk
        head, self.buffer = response.split(b"\r\n\r\n", 1)
        if b" 101 " not in head.split(b"\r\n")[0]:
            raise ConnectionError("websocket handshake refused: " + head.decode(errors="replace"))

    def _read_exact(self, n):
        while len(self.buffer) < n:
            chunk = self.sock.recv(max(65536, n - len(self.buffer)))
            if not chunk:
                raise ConnectionError("websocket closed")
            self.buffer += chunk
        data, self.buffer = self.buffer[:n], self.buffer[n:]
        return data

    def send_text(self, text):
        payload = text.encode()
        header = bytearray([0x81])
        n = len(payload)
        if n < 126:
            header.append(0x80 | n)
        elif n < 65536:
            header.append(0x80 | 126)
            header += struct.pack(">H", n)
        else:
            header.append(0x80 | 127)
            header += struct.pack(">Q", n)
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(bytes(header) + mask + masked)

    def recv_text(self):
        message = b""
        while True:
            b0, b1 = self._read_exact(2)
            opcode, fin = b0 & 0x0F, b0 & 0x80
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack(">H", self._read_exact(2))[0]
            elif n == 127:
                n = struct.unpack(">Q", self._read_exact(8))[0]
            mask = self._read_exact(4) if b1 & 0x80 else None
            payload = self._read_exact(n)
            if mask:
                payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
            if opcode == 0x9:  # ping
                self.sock.sendall(bytes([0x8A, 0x80]) + os.urandom(4))
                continue
            if opcode == 0x8:
                raise ConnectionError("websocket closed by the browser")
            message += payload
            if fin:
                return message.decode()

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


class Browser:
    """One headless Chromium with one page. Use as a context manager."""

    def __init__(self, width=1300, height=900):
        self.width, self.height = width, height
        self.profile = tempfile.mkdtemp(prefix="vidbench-chromium-")
        self.process = None
        self.ws = None
        self.next_id = 0
        self.session = None
        self.events = []

    def __enter__(self):
        chromium = find_chromium()
        if not chromium:
            raise FileNotFoundError("chromium not installed (scripts/install-deps.sh installs it)")
        self.log = open(os.path.join(self.profile, "chromium-stderr.log"), "w+")
        self.process = subprocess.Popen(
            [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={self.profile}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=self.log)
        url = self._wait_for_devtools_url(timeout=30)
        self.ws = WebSocket(url)
        target = self.call("Target.createTarget", {"url": "about:blank"}, session=False)["targetId"]
        self.session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True},
                                 session=False)["sessionId"]
        for domain in ("Runtime", "Log", "Network", "Page"):
            self.call(domain + ".enable")
        self.call("Emulation.setDeviceMetricsOverride",
                  {"width": self.width, "height": self.height, "deviceScaleFactor": 1, "mobile": False})
        return self

    def __exit__(self, *exc):
        if self.ws:
            try:
                self.call("Browser.close", session=False, timeout=5)
            except Exception:
                pass
            self.ws.close()
        if self.process:
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()
        shutil.rmtree(self.profile, ignore_errors=True)

    def _wait_for_devtools_url(self, timeout):
        deadline = time.time() + timeout
        while time.time() < deadline:
            self.log.seek(0)
            match = re.search(r"DevTools listening on (ws://\S+)", self.log.read())
            if match:
                return match.group(1)
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        self.log.seek(0)
        raise RuntimeError("chromium did not start DevTools:\n" + self.log.read()[-2000:])

    def _receive(self, timeout):
        self.ws.sock.settimeout(timeout)
        message = json.loads(self.ws.recv_text())
        if "method" in message:
            self.events.append(message)
        return message

    def call(self, method, params=None, session=True, timeout=30):
        self.next_id += 1
        request = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            request["sessionId"] = self.session
        self.ws.send_text(json.dumps(request))
        deadline = time.time() + timeout
        while True:
            left = deadline - time.time()
            if left <= 0:
                raise TimeoutError(method)
            message = self._receive(left)
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})

    def pump(self, seconds):
        """Collects events for a while."""
        deadline = time.time() + seconds
        while time.time() < deadline:
            try:
                self._receive(max(0.01, deadline - time.time()))
            except (socket.timeout, TimeoutError):
                break

    def evaluate(self, expression):
        result = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                                "awaitPromise": True})
        if "exceptionDetails" in result:
            raise RuntimeError("evaluate failed: " + json.dumps(result["exceptionDetails"])[:500])
        return result["result"].get("value")

    def load(self, url, settle_expression=None, timeout=20):
        """Navigates and waits for the load event, then until settle_expression is true."""
        start = len(self.events)
        self.call("Page.navigate", {"url": url})
        deadline = time.time() + timeout
        while not any(e["method"] == "Page.loadEventFired" for e in self.events[start:]):
            if time.time() > deadline:
                raise TimeoutError("page load: " + url)
            self.pump(0.2)
        while settle_expression and not self.evaluate(settle_expression):
            if time.time() > deadline:
                break
            self.pump(0.2)
        self.pump(0.3)

    def problems(self):
        """Console errors, exceptions, error log entries, failed requests and dialogs seen so far."""
        found = []
        for event in self.events:
            method, params = event["method"], event.get("params", {})
            if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                found.append("console error: " + json.dumps(params.get("args"))[:300])
            elif method == "Runtime.exceptionThrown":
                found.append("exception: " + json.dumps(params.get("exceptionDetails"))[:300])
            elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
                entry = params["entry"]
                found.append(f"log error ({entry.get('source')}): {entry.get('text')} {entry.get('url', '')}")
            elif method == "Network.loadingFailed":
                found.append(f"failed request: {params.get('errorText')} {params.get('blockedReason', '')}"
                             f" (request {params.get('requestId')})")
            elif method == "Network.responseReceived":
                status = params.get("response", {}).get("status", 0)
                if status >= 400:
                    found.append(f"HTTP {status}: {params['response'].get('url')}")
            elif method == "Page.javascriptDialogOpening":
                found.append("dialog opened: " + params.get("message", ""))
        return found

    def requested_urls(self):
        return [e["params"]["request"]["url"] for e in self.events if e["method"] == "Network.requestWillBeSent"]

    def screenshot(self, path):
        """Full-page PNG."""
        metrics = self.call("Page.getLayoutMetrics")
        size = metrics.get("cssContentSize") or metrics["contentSize"]
        clip = {"x": 0, "y": 0, "width": self.width, "height": min(int(size["height"]) + 1, 16000), "scale": 1}
        data = self.call("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True, "clip": clip},
                         timeout=60)["data"]
        with open(path, "wb") as out:
            out.write(base64.b64decode(data))
