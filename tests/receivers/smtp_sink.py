#!/usr/bin/env python3
"""A real SMTP server for the delivery tests (aiosmtpd): every message it accepts is written,
as received (RFC 5322 bytes), to a file `<n>.eml` in the directory given on the command line.

    python3 smtp_sink.py DIR [--port PORT]

It prints `ready <port>` on stdout once it listens (port 0: a free port is chosen), and runs
until killed.
"""
import argparse
import asyncio
import os
import socket
import sys
import threading

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, directory):
        self.directory = directory
        self.count = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.count += 1
            n = self.count
        path = os.path.join(self.directory, f"{n:05d}.eml")
        tmp = path + ".tmp"
        with open(tmp, "wb") as f:
            f.write(envelope.original_content or envelope.content)
        # Atomic: a reader never sees half a message.
        os.rename(tmp, path)
        return "250 Message accepted for delivery"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("directory")
    p.add_argument("--port", type=int, default=0)
    a = p.parse_args()
    os.makedirs(a.directory, exist_ok=True)
    port = a.port or free_port()
    controller = Controller(Sink(a.directory), hostname="127.0.0.1", port=port)
    controller.start()
    print(f"ready {port}", flush=True)
    try:
        threading.Event().wait()
    finally:
        controller.stop()


if __name__ == "__main__":
    sys.exit(main())
