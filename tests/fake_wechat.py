"""A local fake of WeChat's server API, for tests with real processes and for bench/notify_bench.py.

It answers what this app calls: cgi-bin/stable_token (one token while it is valid, as WeChat's
force_refresh=false does; every call counted), cgi-bin/message/subscribe/send (each delivery recorded
with its data, after a configurable latency; scripted errcodes), sns/jscode2session,
wxa/business/getuserphonenumber and wxa/msg_sec_check (canned answers). Point the app at it with
WECHAT_API_BASE_URL. Standard library only, threaded, HTTP/1.1 keep-alive.

In a test: `with FakeWeChat(latency=0.01) as fake: … fake.url …`; in another process:
`python -m tests.fake_wechat --port 0` prints its address and serves until killed. Either way
GET /_fake/state and /_fake/deliveries tell what it saw, POST /_fake/control changes its behaviour
({"latency": s, "token_latency": s, "script": [errcode | "http:502" | "close", …], "rotate": true}).
"""
import argparse
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

PHONE = "13800138000"


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        """A client killed mid-request (the kill test's sender) is expected: stay quiet about it."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class FakeWeChat:
    """The fake server's state and its HTTP server, started in a thread by `start()`."""

    def __init__(self, latency=0.0, token_latency=0.0, token_ttl=7200, port=0, risky_words=("RISKY",)):
        self.latency, self.token_latency, self.token_ttl = latency, token_latency, token_ttl
        self.risky_words = tuple(risky_words)
        self.lock = threading.Lock()
        self.token_calls = []  # the body of each stable_token call
        self.deliveries = []  # the body of each accepted subscribe message
        self.refused = []  # (errcode or HTTP status, body) of each refused send
        self.script = []  # what the next sends answer, in order: an errcode, "http:502" or "close"
        self.token_serial, self.token, self.token_expires = 0, None, 0.0
        self.server = _Server(("127.0.0.1", port), _Handler)
        self.server.fake = self
        self.thread = None

    @property
    def url(self):
        """The base URL to put in WECHAT_API_BASE_URL."""
        return f"http://127.0.0.1:{self.server.server_address[1]}/"

    def start(self):
        """Serve in a daemon thread; returns self."""
        self.thread = threading.Thread(target=self.server.serve_forever, name="fake-wechat", daemon=True)
        self.thread.start()
        return self

    def stop(self):
        """Stop serving and close the socket."""
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def issue_token(self, force):
        """stable_token: the current token while valid (force_refresh=false), a new one when forced or lapsed."""
        with self.lock:
            now = time.time()
            if force or self.token is None or now >= self.token_expires:
                self.token_serial += 1
                self.token, self.token_expires = f"TOKEN-{self.token_serial}", now + self.token_ttl
            return self.token, max(int(self.token_expires - now), 1)

    def next_scripted(self):
        """The next scripted answer to a send, or 0 (accept)."""
        with self.lock:
            return self.script.pop(0) if self.script else 0

    def state(self):
        """What the server saw, as JSON-able counts."""
        with self.lock:
            return {"token_calls": len(self.token_calls), "token": self.token,
                    "force_refresh": [bool(call.get("force_refresh")) for call in self.token_calls],
                    "deliveries": len(self.deliveries), "refused": len(self.refused), "script_left": len(self.script)}

    def control(self, body):
        """Change latency, token latency or the script; `rotate` invalidates the current token."""
        with self.lock:
            self.latency = float(body.get("latency", self.latency))
            self.token_latency = float(body.get("token_latency", self.token_latency))
            if "script" in body:
                self.script = list(body["script"])
            if body.get("rotate"):
                self.token_serial += 1
                self.token, self.token_expires = f"TOKEN-{self.token_serial}", time.time() + self.token_ttl


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body leave in one segment, without Nagle: otherwise each answer waits ~40 ms for the
    # client's delayed ACK and the fake, not the sender, sets the pace.
    wbufsize = 64 * 1024
    disable_nagle_algorithm = True

    def log_message(self, *args):  # quiet: tests and the benchmark print their own lines
        pass

    @property
    def fake(self):
        return self.server.fake

    def do_GET(self):  # noqa: N802 (http.server's naming)
        """State, deliveries and jscode2session."""
        path, query = self._path()
        if path == "/_fake/state":
            return self._json(self.fake.state())
        if path == "/_fake/deliveries":
            with self.fake.lock:
                return self._json(list(self.fake.deliveries))
        if path == "/sns/jscode2session":
            code = query.get("js_code", [""])[0]
            if not code or code == "bad":
                return self._json({"errcode": 40029, "errmsg": "invalid code"})
            return self._json({"openid": f"o-{code}", "session_key": "tiihtNczf5v6AKRyjwEUhQ=="})
        return self._json({"errcode": 404, "errmsg": "no such fake api"}, status=404)

    def do_POST(self):  # noqa: N802
        """The APIs the app posts to, and the control endpoint."""
        path, query = self._path()
        body = self._body()
        if path == "/_fake/control":
            self.fake.control(body)
            return self._json(self.fake.state())
        if path == "/cgi-bin/stable_token":
            return self._stable_token(body)
        if path == "/cgi-bin/message/subscribe/send":
            return self._send(body, query)
        if not self._token_ok(query):
            return self._json({"errcode": 40001, "errmsg": "invalid credential, access_token is invalid"})
        if path == "/wxa/business/getuserphonenumber":
            if body.get("code") in (None, "", "bad"):
                return self._json({"errcode": 40029, "errmsg": "invalid code"})
            return self._json({"errcode": 0, "errmsg": "ok", "phone_info": {
                "phoneNumber": PHONE, "purePhoneNumber": PHONE, "countryCode": "86",
                "watermark": {"timestamp": int(time.time()), "appid": "wxfake"}}})
        if path == "/wxa/msg_sec_check":
            risky = any(word in str(body.get("content", "")) for word in self.fake.risky_words)
            suggest, label = ("risky", 20001) if risky else ("pass", 100)
            return self._json({"errcode": 0, "errmsg": "ok", "trace_id": "fake-trace",
                               "result": {"suggest": suggest, "label": label}, "detail": []})
        return self._json({"errcode": 404, "errmsg": "no such fake api"}, status=404)

    def _stable_token(self, body):
        with self.fake.lock:
            self.fake.token_calls.append(body)
            latency = self.fake.token_latency
        if latency:
            time.sleep(latency)
        if not (body.get("appid") and body.get("secret")):
            return self._json({"errcode": 40013, "errmsg": "invalid appid"})
        token, expires_in = self.fake.issue_token(bool(body.get("force_refresh")))
        return self._json({"access_token": token, "expires_in": expires_in})

    def _send(self, body, query):
        if self.fake.latency:
            time.sleep(self.fake.latency)
        if not self._token_ok(query):
            return self._json({"errcode": 40001, "errmsg": "invalid credential, access_token is invalid"})
        answer = self.fake.next_scripted()
        if answer == "close":
            self.close_connection = True
            return None
        if isinstance(answer, str) and answer.startswith("http:"):
            with self.fake.lock:
                self.fake.refused.append((answer, body))
            return self._json({"error": "upstream"}, status=int(answer[5:]))
        if answer:
            with self.fake.lock:
                self.fake.refused.append((answer, body))
            return self._json({"errcode": answer, "errmsg": f"scripted {answer}"})
        with self.fake.lock:
            self.fake.deliveries.append(body)
        return self._json({"errcode": 0, "errmsg": "ok", "msgid": len(self.fake.deliveries)})

    def _token_ok(self, query):
        with self.fake.lock:
            return self.fake.token is not None and query.get("access_token", [None])[0] == self.fake.token

    def _path(self):
        parts = urlsplit(self.path)
        return parts.path, parse_qs(parts.query)

    def _body(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            return json.loads(raw.decode("utf-8")) if raw else {}
        except ValueError:
            return {}

    def _json(self, payload, status=200):
        data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        return None


def main():
    """Serve until killed, printing the address on the first line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds before each send is answered")
    parser.add_argument("--token-latency", type=float, default=0.0)
    args = parser.parse_args()
    fake = FakeWeChat(latency=args.latency, token_latency=args.token_latency, port=args.port)
    print(fake.url, flush=True)
    try:
        fake.server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
