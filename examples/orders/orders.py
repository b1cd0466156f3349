"""orders: a service behind wsrouter, in Python with only the standard library.

    python3 examples/orders/orders.py                 # serves 127.0.0.1:8000
    wsrouter -config examples/orders/config.yaml      # the router, on :9000

Environment: LISTEN (127.0.0.1:8000), REDIS_ADDR (127.0.0.1:6379).
"""
import json
import os
import secrets
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LISTEN = os.environ.get("LISTEN", "127.0.0.1:8000")
REDIS_ADDR = os.environ.get("REDIS_ADDR", "127.0.0.1:6379")
ORDERS = {"42": {"id": "42", "owner": "alice", "status": "open", "version": 1}}
TICKETS = {}  # ticket -> (user, expiry)
LOCK = threading.Lock()


def publish(channel, message):
    """PUBLISH over the Redis protocol, so no client library is needed."""
    args = [b"PUBLISH", channel.encode(), json.dumps(message).encode()]
    command = b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args)
    host, port = REDIS_ADDR.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=5) as conn:
        conn.sendall(command)
        reply = conn.recv(64)
    if not reply.startswith(b":"):
        raise RuntimeError(f"redis: PUBLISH answered {reply!r}")


def order_changed(order):
    """Sends the new state to the order's subscribers. The order option
    makes the router drop any state older than one a client already has."""
    name = f"orders.{order['id']}"
    publish(name, {"subscription": name, "data": order, "options": {"order": order["version"]}})


def ticket(body):  # the page asks; a real app takes the user from its login session
    token = secrets.token_urlsafe(16)
    TICKETS[token] = (body["user"], time.time() + 30)
    return {"ticket": token}


def validate(body):  # the router, on the client's auth event: single use
    user, expires = TICKETS.pop(body.get("ticket"), (None, 0))
    if user is None or expires < time.time():
        return {"status": "error", "error": "Invalid ticket."}
    return {"status": "ok", "user_id": user}


def authorize(body):  # the router, before each subscribe and on every renewal
    order = ORDERS.get(body["subscription"].split(".", 1)[1])
    if order is None or order["owner"] != body.get("user_id"):
        return {"status": "error", "error": "Unauthorized."}
    return {"status": "ok"}


def before_subscribe(body):  # the router, after the authorizer: the current state
    order = ORDERS[body["subscription"].split(".", 1)[1]]
    return {"status": "ok", "data": order, "options": {"order": order["version"]}}


def pay(body):  # your application changes an order, then publishes it
    order = ORDERS[body["id"]]
    order.update(status="paid", version=order["version"] + 1)
    order_changed(order)
    return order


ROUTES = {
    "/ticket": ticket,
    "/ws/auth/ticket/": validate,
    "/ws/orders/authorize/": authorize,
    "/ws/orders/before_subscribe/": before_subscribe,
    "/orders/pay": pay,
}


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        try:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
            with LOCK:
                status, answer = 200, ROUTES[self.path](body)
        except (KeyError, ValueError, TypeError, AttributeError):
            status, answer = 404, {"status": "error", "error": "Not found."}
        payload = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


if __name__ == "__main__":
    host, port = LISTEN.rsplit(":", 1)
    print(f"orders: listening on http://{LISTEN}/", flush=True)
    ThreadingHTTPServer((host, int(port)), Handler).serve_forever()
