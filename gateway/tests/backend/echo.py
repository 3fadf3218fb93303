#!/usr/bin/env python3
"""A test backend for the gateway's http_proxy tests: reports what it got.

Listens on 127.0.0.1 (port from argv[1], 0 = any) and prints
`listening on PORT` once ready. Every request answers 200 with JSON:
method, raw path, raw query, headers in order, body length and SHA-256, an
`id` (the SHA-256's first 8 hex digits, as a created resource's), and the
body itself when it is under 64 KiB. Special paths:

  .../sleep/MS        sleeps MS milliseconds before answering
  .../stall/MS        sends its head and half its body, then sleeps MS
                      milliseconds before the rest
  .../download/BYTES  streams BYTES bytes (chunked), computing nothing
  .../status/CODE     answers the report with status CODE
  .../hangup/N        answers the report, then closes the connection
                      without saying so (as a backend's idle timeout does)

Uploads are read in chunks (Content-Length or chunked), never held whole.
Responses carry Server and Date (from http.server) and WWW-Authenticate,
so the gateway's renaming can be observed. Standard library only.
"""
import hashlib
import json
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CHUNK = 64 * 1024


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def read_body(self):
        digest = hashlib.sha256()
        total = 0
        kept = bytearray()

        def take(data):
            nonlocal total
            digest.update(data)
            total += len(data)
            if len(kept) < CHUNK:
                kept.extend(data[: CHUNK - len(kept)])

        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                left = size
                while left:
                    data = self.rfile.read(min(left, CHUNK))
                    if not data:
                        raise ConnectionError("body cut short")
                    take(data)
                    left -= len(data)
                self.rfile.readline()
        else:
            left = int(self.headers.get("Content-Length") or 0)
            while left:
                data = self.rfile.read(min(left, CHUNK))
                if not data:
                    raise ConnectionError("body cut short")
                take(data)
                left -= len(data)
        return total, digest.hexdigest(), bytes(kept) if total < CHUNK else None

    def handle_any(self):
        path, _, query = self.path.partition("?")
        try:
            total, sha, body = self.read_body()
        except (ConnectionError, ValueError):
            # The gateway cut the upload off (over its limit): nothing to say.
            self.close_connection = True
            return
        parts = path.split("/")
        if len(parts) >= 2 and parts[-2] == "sleep":
            time.sleep(int(parts[-1]) / 1000)
        if len(parts) >= 2 and parts[-2] == "stall":
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", "10")
            self.end_headers()
            self.wfile.write(b"hello")
            self.wfile.flush()
            time.sleep(int(parts[-1]) / 1000)
            self.wfile.write(b"world")
            return
        if len(parts) >= 2 and parts[-2] == "download":
            size = int(parts[-1])
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            block = b"x" * CHUNK
            left = size
            while left:
                n = min(left, CHUNK)
                self.wfile.write(b"%x\r\n" % n + block[:n] + b"\r\n")
                left -= n
            self.wfile.write(b"0\r\n\r\n")
            return
        report = {
            "method": self.command,
            "path": path,
            "query": query,
            "headers": [[k, v] for k, v in self.headers.items()],
            "body_len": total,
            "body_sha256": sha,
            "id": sha[:8],
            "body": body.decode("utf-8", "replace") if body is not None else None,
            # Which of the gateway's connections carried the request.
            "peer_port": self.client_address[1],
        }
        data = json.dumps(report).encode()
        status = 200
        if len(parts) >= 2 and parts[-2] == "status":
            status = int(parts[-1])
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("WWW-Authenticate", 'Basic realm="backend"')
        self.send_header("X-Backend", "echo")
        self.end_headers()
        self.wfile.write(data)
        if len(parts) >= 2 and parts[-2] == "hangup":
            self.wfile.flush()
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = handle_any

    def do_HEAD(self):
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()


def main():
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    print(f"listening on {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
