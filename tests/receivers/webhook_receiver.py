#!/usr/bin/env python3
"""A real Standard Webhooks receiver for the delivery tests. Each POST is verified with the
`standardwebhooks` package (an implementation independent of ours) and recorded as one JSON
line in LOG: {"id", "verified", "status", "body", "error"}.

    python3 webhook_receiver.py SECRET LOG [--fail-first N] [--gone] [--port PORT]
                                           [--hold-call K --hold-seconds S]

--fail-first N: the first N requests get 500 (recorded, verified or not);
--gone: every request gets 410 Gone;
--hold-call K: request number K is recorded (status "held": the receiver has it) and answered
  only after --hold-seconds (so a test can kill the sender between delivery and its record).
Otherwise a verified request gets 204 and an unverified one 401. It prints `ready <port>` once
it listens, and runs until killed.
"""
import argparse
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


def main():
    p = argparse.ArgumentParser()
    p.add_argument("secret")
    p.add_argument("log")
    p.add_argument("--fail-first", type=int, default=0)
    p.add_argument("--gone", action="store_true")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--hold-call", type=int, default=0)
    p.add_argument("--hold-seconds", type=float, default=0.0)
    a = p.parse_args()
    wh = Webhook(a.secret)
    lock = threading.Lock()
    state = {"calls": 0}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            length = int(self.headers.get("content-length", "0"))
            body = self.rfile.read(length)
            headers = {k.lower(): v for k, v in self.headers.items()}
            error = None
            try:
                wh.verify(body, headers)
                verified = True
            except WebhookVerificationError as e:
                verified = False
                error = str(e)
            with lock:
                state["calls"] += 1
                n = state["calls"]
                held = n == a.hold_call
                if a.gone:
                    status = 410
                elif n <= a.fail_first:
                    status = 500
                elif verified:
                    status = 204
                else:
                    status = 401
                with open(a.log, "a") as f:
                    f.write(json.dumps({
                        "id": headers.get("webhook-id"),
                        "verified": verified,
                        "status": "held" if held and status == 204 else status,
                        "body": body.decode("utf-8", "replace"),
                        "error": error,
                    }) + "\n")
            if held:
                time.sleep(a.hold_seconds)
            self.send_response(status)
            self.send_header("content-length", "0")
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", a.port), Handler)
    print(f"ready {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
