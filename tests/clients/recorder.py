#!/usr/bin/env python3
"""A recording reverse proxy: forwards every request to syncrun unchanged and appends one JSON line
per exchange (client label, method, path with query as sent, status, response body head) to a log,
so each public client's calls and syncrun's answers can be read afterwards.

usage: recorder.py LISTEN_PORT UPSTREAM_URL LOGFILE
The label of a request is the X-Client-Label of the process (env CLIENT_LABEL is not visible to a
proxy), so callers set the label by writing it to LOGFILE.label before each client runs."""
import http.client
import json
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

port, upstream, logfile = int(sys.argv[1]), urllib.parse.urlsplit(sys.argv[2]), sys.argv[3]
lock = threading.Lock()
HOP = {"connection", "keep-alive", "transfer-encoding", "te", "upgrade", "proxy-connection"}


def label():
    try:
        with open(logfile + ".label") as f:
            return f.read().strip()
    except OSError:
        return ""


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _forward(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else None
        if body is None and self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            body = b"".join(chunks)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP and k.lower() != "content-length"}
        if body is not None:
            headers["Content-Length"] = str(len(body))
        conn = http.client.HTTPConnection(upstream.hostname, upstream.port, timeout=60)
        conn.request(self.command, self.path, body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        self.send_response(resp.status, resp.reason)
        for k, v in resp.getheaders():
            if k.lower() not in HOP and k.lower() != "content-length":
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        conn.close()
        entry = {
            "client": label(),
            "method": self.command,
            "path": self.path,
            "auth": (self.headers.get("Authorization") or "").split(" ")[0],
            "content_type": self.headers.get("Content-Type"),
            "request_body": (body or b"")[:300].decode("utf-8", "replace"),
            "status": resp.status,
            "location": resp.getheader("Location"),
            "body": data[:400].decode("utf-8", "replace"),
        }
        with lock, open(logfile, "a") as f:
            f.write(json.dumps(entry) + "\n")

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _forward


ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
