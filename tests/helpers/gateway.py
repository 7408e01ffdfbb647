"""A misbehaving hop between kiosk and service (a proxy, a captive portal, a gateway): its answer is the fault.

Used by the hardening tests and by scripts/fault_suite.py.
"""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Gateway(BaseHTTPRequestHandler):
    answer: tuple[int, bytes] = (503, b"Service Unavailable")
    drip_s = 0.0  # > 0: drip the status line one byte at a time instead (a read timeout that never fires)

    def log_message(self, *args):
        pass

    def _reply(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.drip_s:
            for byte in b"HTTP/1.1 200 OK\r\n":
                try:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                except OSError:
                    return
                time.sleep(self.drip_s)
            return
        status, body = type(self).answer
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _reply


def start_gateway() -> tuple[ThreadingHTTPServer, str]:
    """A gateway on a free loopback port: (server, its URL)."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Gateway)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, f"http://127.0.0.1:{httpd.server_address[1]}"
