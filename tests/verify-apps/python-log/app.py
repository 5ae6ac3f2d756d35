"""A tiny server that logs to /var/log/app.log (created at start-up, as root)."""
import http.server

log = open("/var/log/app.log", "a")
log.write("starting\n")
log.flush()


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        log.write(f"GET {self.path}\n")
        log.flush()
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok\n")


http.server.HTTPServer(("", 8000), Handler).serve_forever()
