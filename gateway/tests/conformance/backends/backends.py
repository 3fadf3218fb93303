#!/usr/bin/env python3
"""The backends behind the conformance cases (gateway/tests/conformance.rs).

LocalStack recorded its API Gateway tests against real AWS with these
backends behind the API: httpbin.org (gunicorn behind an AWS load balancer),
Lambda function URLs running small echo functions, and Lambda functions
invoked through the Invoke API. This process stands in for each of them, one
loopback port per backend, and answers as the recording's backend did (the
same JSON shapes, the same response headers), so what the gateway sent
becomes visible in the answer exactly as it did in the recording.

Started as `backends.py`; binds 127.0.0.1 only and prints one line,
`listening on {"httpbin": PORT, ...}`, once every port is ready. Standard
library only. The functions' code is this file's own: it reproduces what
the recorded functions returned, not their source.
"""
import base64
import json
import sys
import threading
import time
import uuid
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, unquote

MAX_BODY = 1 << 20


def now():
    return formatdate(time.time(), usegmt=True)


def trace_id():
    return "Root=1-%08x-%s" % (int(time.time()), uuid.uuid4().hex[:24])


def query_pairs(raw):
    return parse_qsl(raw, keep_blank_values=True)


class Base(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = bytearray()
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return bytes(data)
                if len(data) + size > MAX_BODY:
                    raise ValueError("body too large")
                data += self.rfile.read(size)
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            raise ValueError("body too large")
        return self.rfile.read(length) if length else b""

    def answer(self, status, headers, body):
        self.send_response_only(status)
        for name, value in headers:
            self.send_header(name, value)
        if not any(n.lower() == "content-length" for n, _ in headers):
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def handle_any(self):
        try:
            body = self.read_body()
        except ValueError:
            self.answer(413, [("Content-Type", "text/plain")], b"too large")
            return
        target = self.path
        path, _, query = target.partition("?")
        self.serve(path, query, body)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_HEAD = handle_any


def header_items(headers):
    """The request's headers in order, repeated names kept."""
    return [(k, v) for k, v in headers.items()]


class Httpbin(Base):
    """httpbin.org as the recordings saw it: httpbin (werkzeug, which
    title-cases header names and joins repeated ones with ','), gunicorn
    19.9.0, behind an AWS load balancer (which answers keep-alive, drops
    hop-by-hop headers and the X-Forwarded-* it adds, and adds
    X-Amzn-Trace-Id when absent)."""

    HIDDEN = {"connection", "keep-alive", "x-forwarded-for", "x-forwarded-proto",
              "x-forwarded-port", "x-real-ip"}

    def headers_seen(self):
        seen = {}
        for name, value in header_items(self.headers):
            if name.lower() in self.HIDDEN:
                continue
            key = "-".join(part.capitalize() for part in name.split("-"))
            seen[key] = seen[key] + "," + value if key in seen else value
        if "X-Amzn-Trace-Id" not in seen:
            seen["X-Amzn-Trace-Id"] = trace_id()
        return seen

    def reply(self, status, payload=None, content_type="application/json"):
        body = b"" if payload is None else (json.dumps(payload, indent=2, sort_keys=True) + "\n").encode()
        self.answer(status, [
            ("Date", now()),
            ("Content-Type", content_type),
            ("Content-Length", str(len(body))),
            ("Connection", "keep-alive"),
            ("Server", "gunicorn/19.9.0"),
            ("Access-Control-Allow-Origin", "*"),
            ("Access-Control-Allow-Credentials", "true"),
        ], body)

    def serve(self, path, query, body):
        args = {}
        for k, v in query_pairs(query):
            args[k] = [args[k], v] if isinstance(args.get(k), str) else (args[k] + [v] if k in args else v)
        host = self.headers.get("Host", "")
        xff = self.headers.get("X-Forwarded-For")
        origin = (xff + ", " if xff else "") + self.client_address[0]
        url = "https://" + host + path + ("?" + query if query else "")
        info = {"args": args, "headers": self.headers_seen(), "origin": origin, "url": url}
        if path.startswith("/status/"):
            code = path.split("/")[2]
            if code.isdigit() and 100 <= int(code) <= 599:
                self.reply(int(code), None, "text/html; charset=utf-8")
            else:
                self.reply(400, None, "text/html; charset=utf-8")
            return
        method_routes = {"/post": "POST", "/put": "PUT", "/patch": "PATCH", "/delete": "DELETE", "/get": "GET"}
        if path in method_routes and self.command != method_routes[path]:
            self.reply(405, None, "text/html")
            return
        if path == "/get":
            self.reply(200, info)
            return
        if path in method_routes or path == "/anything" or path.startswith("/anything/"):
            text = body.decode("utf-8", "replace")
            form = {}
            ctype = self.headers.get("Content-Type", "")
            if ctype.startswith("application/x-www-form-urlencoded"):
                form = dict(query_pairs(text))
                text = ""
            try:
                parsed = json.loads(body) if body else None
            except ValueError:
                parsed = None
            info.update({"data": text, "files": {}, "form": form, "json": parsed})
            if path.startswith("/anything"):
                info["method"] = self.command
            self.reply(200, info)
            return
        self.reply(404, None, "text/html")


class FunctionUrl(Base):
    """A Lambda function URL: the request as a payload format 2.0 event
    (header names lowercased, repeated values joined with ','), the
    function's answer as the HTTP response."""

    function = None  # set per port

    def event(self, path, query, body):
        headers = {}
        for name, value in header_items(self.headers):
            lname = name.lower()
            if lname in ("connection", "keep-alive"):
                continue
            headers[lname] = headers[lname] + "," + value if lname in headers else value
        peer = self.client_address[0]
        xff = headers.get("x-forwarded-for")
        headers["x-forwarded-for"] = (xff + ", " if xff else "") + peer
        headers["x-forwarded-port"] = "443"
        headers["x-forwarded-proto"] = "https"
        headers["x-amzn-tls-cipher-suite"] = "TLS_AES_128_GCM_SHA256"
        headers["x-amzn-tls-version"] = "TLSv1.3"
        headers.setdefault("x-amzn-trace-id", trace_id())
        event = {
            "version": "2.0",
            "rawPath": path,
            "rawQueryString": query,
            "headers": headers,
            "requestContext": {
                "domainName": headers.get("host", ""),
                "http": {
                    "method": self.command,
                    "path": unquote(path),
                    "protocol": "HTTP/1.1",
                    "sourceIp": peer,
                    "userAgent": headers.get("user-agent", ""),
                },
            },
            "isBase64Encoded": False,
        }
        if query:
            params = {}
            for k, v in query_pairs(query):
                params[k] = params[k] + "," + v if k in params else v
            event["queryStringParameters"] = params
        if body:
            try:
                event["body"] = body.decode("utf-8")
            except UnicodeDecodeError:
                event["body"] = base64.b64encode(body).decode()
                event["isBase64Encoded"] = True
        return event

    def serve(self, path, query, body):
        result = type(self).function(self.event(path, query, body))
        status, headers, out = 200, {"Content-Type": "application/json"}, result
        if isinstance(result, dict) and "statusCode" in result:
            status = int(result["statusCode"])
            headers = result.get("headers") or {}
            out = result.get("body", "")
        if not isinstance(out, str):
            out = json.dumps(out)
        data = out.encode()
        answer = [("Date", now())]
        answer += [(k, str(v)) for k, v in headers.items()]
        answer += [
            ("Content-Length", str(len(data))),
            ("Connection", "keep-alive"),
            ("x-amzn-RequestId", str(uuid.uuid4())),
            ("X-Amzn-Trace-Id", trace_id() + ";Sampled=0"),
        ]
        self.answer(status, answer, data)


def echo_function(trim):
    """LocalStack's `create_echo_http_server` function: the request's parts."""

    def run(event):
        headers = event.get("headers", {})
        if trim:
            headers = {k: v for k, v in headers.items()
                       if not (k.startswith("x-amzn") or k.startswith("x-forwarded-"))}
        http = event["requestContext"]["http"]
        return {
            "statusCode": 200,
            "headers": {"Content-Type": "application/json"},
            "body": {
                "args": event.get("queryStringParameters", {}),
                "data": event.get("body", ""),
                "domain": event["requestContext"].get("domainName", ""),
                "headers": headers,
                "method": http.get("method", ""),
                "origin": http.get("sourceIp", ""),
                "path": http.get("path", ""),
            },
        }

    return run


def status_function(event):
    """The status echo: the status named by the path's last segment."""
    path = event["requestContext"]["http"].get("path", "")
    code = path.split("/")[-1]
    if not code.isdigit() or not 100 <= int(code) <= 599:
        code, message = 400, "No valid status found at end of path " + path
    else:
        code, message = int(code), ""
    return {"statusCode": code, "headers": {"Content-Type": "application/json"},
            "body": {"status_code": code, "message": message}}


def body_function(event):
    """Returns the request body as it got it."""
    return event.get("body", "")


class FunctionError(Exception):
    pass


def aws_proxy_echo(event):
    return {"statusCode": 200, "body": json.dumps(event), "isBase64Encoded": False}


def aws_proxy_format(event):
    path = event.get("path")
    if path == "/no-body":
        return {"statusCode": 200}
    if path == "/only-headers":
        return {"statusCode": 200, "headers": {"test-header": "value"}}
    if path == "/wrong-format":
        return {"statusCode": 200, "wrongValue": "value"}
    if path == "/empty-response":
        return {}
    return aws_proxy_echo(event)


def response_from_body(event):
    body = event.get("body")
    if event.get("isBase64Encoded"):
        body = base64.b64decode(body)
    try:
        return json.loads(body)
    except (TypeError, ValueError) as e:
        raise FunctionError(str(e))


def xml_answer(event):
    return {"isBase64Encoded": False, "statusCode": 300,
            "headers": {"content-type": "application/xml"},
            "body": "<message>completed</message>"}


def node_greeting(event):
    text = "response from localstack lambda: " + json.dumps(event, separators=(",", ":"))
    return {"statusCode": 200, "body": json.dumps(text), "isBase64Encoded": False, "headers": {}}


def rust_hello(event):
    for key in ("httpMethod", "requestContext", "headers"):
        if key not in event:
            raise FunctionError("not an API Gateway proxy event: no " + key)
    name = (event.get("queryStringParameters") or {}).get("first_name")
    if name is None:
        return {"statusCode": 400, "headers": {}, "multiValueHeaders": {},
                "body": "Empty first name", "isBase64Encoded": False}
    return {"statusCode": 200, "headers": {},
            "multiValueHeaders": {"content-type": ["text/plain"]},
            "body": "Hello, %s!" % name, "isBase64Encoded": False}


FUNCTIONS = {
    "aws-proxy-echo": aws_proxy_echo,
    "aws-proxy-format": aws_proxy_format,
    "response-from-body": response_from_body,
    "xml-answer": xml_answer,
    "node-greeting": node_greeting,
    "rust-hello": rust_hello,
}


class Lambda(Base):
    """The Lambda Invoke API (`POST /2015-03-31/functions/NAME/invocations`,
    NAME a name or an ARN), and an empty JWKS for the gateway's required
    user pool (no case uses Cognito)."""

    def serve(self, path, query, body):
        if path.endswith("/.well-known/jwks.json") and self.command == "GET":
            self.answer(200, [("Content-Type", "application/json")], b'{"keys": []}')
            return
        parts = path.split("/")
        if (self.command != "POST" or len(parts) != 5 or parts[1] != "2015-03-31"
                or parts[2] != "functions" or parts[4] != "invocations"):
            self.answer(404, [("Content-Type", "application/json")], b'{"message": "not found"}')
            return
        name = unquote(parts[3]).split(":")
        name = name[6] if len(name) >= 7 else name[-1]
        function = FUNCTIONS.get(name)
        if function is None:
            payload = {"Message": "Function not found: " + name, "Type": "User"}
            self.answer(404, [("Content-Type", "application/json"),
                              ("x-amzn-ErrorType", "ResourceNotFoundException")],
                        json.dumps(payload).encode())
            return
        try:
            event = json.loads(body)
            result = function(event)
        except Exception as e:  # the function failed: the Invoke API says so
            payload = {"errorMessage": str(e), "errorType": type(e).__name__}
            self.answer(200, [("Content-Type", "application/json"),
                              ("X-Amz-Function-Error", "Unhandled"),
                              ("X-Amz-Executed-Version", "$LATEST")],
                        json.dumps(payload).encode())
            return
        self.answer(200, [("Content-Type", "application/json"),
                          ("X-Amz-Executed-Version", "$LATEST")], json.dumps(result).encode())


def function_url(function):
    return type("FunctionUrl", (FunctionUrl,), {"function": staticmethod(function)})


HANDLERS = {
    "httpbin": Httpbin,
    "fnurl-echo": function_url(echo_function(trim=False)),
    "fnurl-echo-trim": function_url(echo_function(trim=True)),
    "fnurl-status": function_url(status_function),
    "fnurl-body": function_url(body_function),
    "lambda": Lambda,
}


def main():
    ports = {}
    for name, handler in HANDLERS.items():
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        server.daemon_threads = True
        ports[name] = server.server_address[1]
        threading.Thread(target=server.serve_forever, daemon=True).start()
    print("listening on " + json.dumps(ports), flush=True)
    # Ends with its parent: the runner closes stdin when it is done.
    sys.stdin.read()


if __name__ == "__main__":
    main()
