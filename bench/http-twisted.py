#!/usr/bin/env python3
"""twisted.web servers for the HTTP benchmarks (bench/http-hello.ts).

Usage: python3 http-twisted.py hello PORT [HOST]
       python3 http-twisted.py static PORT DIR [HOST]

hello: a Site whose root is a leaf Resource answering GET with the 14-byte
text/plain body of the other hello servers (the shared harness's
twisted_http.py). static: a Site serving DIR with twisted.web.static.File.
Access logging is off (a Site whose log() does nothing), the listen backlog is
511 as in the Node servers (Twisted's default is 50). Prints
"twisted http listening on HOST:PORT" with the bound port; SIGTERM stops the
reactor.
"""
import sys

from twisted.internet import reactor
from twisted.web import resource, server, static

BODY = b"Hello, World!\n"


class Hello(resource.Resource):
    isLeaf = True

    def render_GET(self, request):
        request.setHeader(b"content-type", b"text/plain")
        return BODY


class QuietSite(server.Site):
    noisy = False

    def log(self, request):
        pass


def main(argv):
    mode = argv[1]
    port = int(argv[2])
    if mode == "hello":
        root, host = Hello(), (argv[3] if len(argv) > 3 else "127.0.0.1")
    elif mode == "static":
        root, host = static.File(argv[3]), (argv[4] if len(argv) > 4 else "127.0.0.1")
    else:
        raise SystemExit(f"unknown mode {mode!r}: hello or static")
    listening = reactor.listenTCP(port, QuietSite(root), backlog=511, interface=host)
    print(f"twisted http listening on {host}:{listening.getHost().port}", flush=True)
    reactor.run()


if __name__ == "__main__":
    main(sys.argv)
