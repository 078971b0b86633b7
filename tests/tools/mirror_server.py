#!/usr/bin/python3
"""A local HTTP mirror for vidbench's download tests: serves files under --root on
127.0.0.1 only, with Range requests, a request log and scripted faults.

Usage:
  mirror_server.py --root DIR --port-file FILE [--log FILE] [--faults FILE] [--max-seconds S]

It binds an ephemeral port on 127.0.0.1 and writes the port number to --port-file once it is
listening (tests wait for that file). Every request is appended to --log as one JSON line:
  {"method": "GET", "path": "/400/val/part_0.tar.gz", "range": "bytes=1000-", "status": 206,
   "sent": 123}
--faults names a JSON file re-read on every request (tests may rewrite it while the server
runs), a list of rules:
  {"path": "/x.tar.gz", "status": 500, "times": 1}        answer 500 (then serve normally)
  {"path": "/x.tar.gz", "drop_after": 4096, "times": 1}   send the full Content-Length header
                                                          but close after 4096 body bytes
  {"path": "/x.tar.gz", "truncate": 4096, "times": 1}     send only 4096 bytes, with a
                                                          Content-Length that says 4096
  {"path": "/x.tar.gz", "corrupt_offset": 10}             flip byte 10 of the body (times: all)
  {"path": "/x.tar.gz", "ignore_range": true}             answer 200 with the whole file
  {"path": "/x.tar.gz", "endless": "close"}               stream bytes without end: no
                                                          Content-Length, body ends at close;
                                                          "chunked": chunked encoding;
                                                          "huge_length": Content-Length 1 TiB
     (an endless answer stops when the client hangs up, or at "endless_max_bytes", default
     1 GiB, so a client without a limit cannot hang the test; it is logged once it ends,
     with "sent" the bytes that went out -- the file need not exist)
"times" (default: unlimited) counts down per rule; a rule applies while it is above zero.
The server exits by itself after --max-seconds (default 600) so no test can leave it running.
"""
import argparse
import json
import os
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
USED = {}  # rule index -> times used


def load_rules(path):
    if not path or not os.path.exists(path):
        return []
    try:
        with open(path) as f:
            rules = json.load(f)
        return rules if isinstance(rules, list) else []
    except (OSError, ValueError):
        return []


def take_rule(rules, path, key):
    """The first rule for path that has key and times left; counts it as used."""
    with LOCK:
        for i, rule in enumerate(rules):
            if rule.get("path") != path or key not in rule:
                continue
            ident = (i, json.dumps(rule, sort_keys=True))
            used = USED.get(ident, 0)
            times = rule.get("times")
            if times is not None and used >= times:
                continue
            USED[ident] = used + 1
            return rule
    return None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "vidbench-test-mirror/1"

    def log_message(self, fmt, *args):  # keep stderr quiet; the JSON log is the record
        pass

    def record(self, status, sent):
        log = self.server.log_path
        if not log:
            return
        entry = {"method": self.command, "path": self.path,
                 "range": self.headers.get("Range"), "status": status, "sent": sent}
        with LOCK, open(log, "a") as f:
            f.write(json.dumps(entry) + "\n")

    def do_HEAD(self):
        self.handle_request(send_body=False)

    def do_GET(self):
        self.handle_request(send_body=True)

    def handle_request(self, send_body):
        rules = load_rules(self.server.faults_path)
        url_path = urllib.parse.urlsplit(self.path).path
        rel = urllib.parse.unquote(url_path).lstrip("/")
        root = self.server.root
        full = os.path.realpath(os.path.join(root, rel))
        rule = take_rule(rules, url_path, "status")
        if rule:
            return self.send_simple(int(rule["status"]))
        endless = take_rule(rules, url_path, "endless")
        if endless:
            return self.send_endless(endless, send_body)
        if not (full == root or full.startswith(root + os.sep)) or not os.path.isfile(full):
            return self.send_simple(404)
        with open(full, "rb") as f:
            body = f.read()
        corrupt = take_rule(rules, url_path, "corrupt_offset")
        if corrupt and 0 <= int(corrupt["corrupt_offset"]) < len(body):
            b = bytearray(body)
            b[int(corrupt["corrupt_offset"])] ^= 0xFF
            body = bytes(b)
        start, end, status = 0, len(body), 200
        range_header = self.headers.get("Range")
        if range_header and not take_rule(rules, url_path, "ignore_range"):
            try:
                unit, spec = range_header.split("=", 1)
                first, last = spec.split("-", 1)
                if unit.strip() != "bytes" or "," in spec:
                    raise ValueError
                start = int(first)
                end = int(last) + 1 if last else len(body)
            except ValueError:
                return self.send_simple(400)
            if start >= len(body) or end > len(body) or start >= end:
                self.send_response(416)
                self.send_header("Content-Range", "bytes */%d" % len(body))
                self.send_header("Content-Length", "0")
                self.record(416, 0)
                self.end_headers()
                return None
            status = 206
        payload = body[start:end]
        declared = len(payload)
        truncate = take_rule(rules, url_path, "truncate")
        if truncate:
            payload = payload[: int(truncate["truncate"])]
            declared = len(payload)
        drop = take_rule(rules, url_path, "drop_after")
        self.send_response(status)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Length", str(declared))
        if status == 206:
            self.send_header("Content-Range", "bytes %d-%d/%d" % (start, end - 1, len(body)))
        if drop:
            self.send_header("Connection", "close")
        self.end_headers()
        if send_body and drop:
            payload = payload[: int(drop["drop_after"])]
        # Log before sending: a client that has its answer must find the request logged.
        self.record(status, len(payload) if send_body else 0)
        if send_body:
            try:
                self.wfile.write(payload)
                self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                pass
        if drop:
            self.close_connection = True
            try:
                self.connection.shutdown(2)
            except OSError:
                pass

    def send_endless(self, rule, send_body):
        mode = rule["endless"]
        limit = int(rule.get("endless_max_bytes", 1 << 30))
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        if mode == "chunked":
            self.send_header("Transfer-Encoding", "chunked")
        elif mode == "huge_length":
            self.send_header("Content-Length", str(1 << 40))
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        block = b"\x5a" * 65536
        sent = 0
        try:
            while send_body and sent < limit:
                if mode == "chunked":
                    self.wfile.write(b"%x\r\n" % len(block) + block + b"\r\n")
                else:
                    self.wfile.write(block)
                sent += len(block)
        except (BrokenPipeError, ConnectionResetError, OSError):
            pass
        self.record(200, sent)

    def send_simple(self, status):
        body = ("%d\n" % status).encode()
        self.record(status, len(body))
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


class QuietServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        pass  # clients that hang up mid-body are part of the tests


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", required=True)
    parser.add_argument("--port-file", required=True)
    parser.add_argument("--log")
    parser.add_argument("--faults")
    parser.add_argument("--max-seconds", type=float, default=600)
    args = parser.parse_args()
    server = QuietServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.root = os.path.realpath(args.root)
    server.log_path = args.log
    server.faults_path = args.faults
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(server.server_address[1]))
    os.replace(tmp, args.port_file)
    timer = threading.Timer(args.max_seconds, server.shutdown)
    timer.daemon = True
    timer.start()
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
