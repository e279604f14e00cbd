"""The door every request passes before anything renders: the Host must be this server's own name, and where the
dashboard is served beyond the loopback (or the operator asks), a token — given by `M3_STUDIO_TOKEN`, a file named
by `M3_STUDIO_TOKEN_FILE`, or generated at start and printed once as a URL carrying it, as Jupyter Server does.

An ASGI middleware of `st.App` (app/main.py), so it guards Streamlit's page, its websocket, uploads and media
alike; the pages never see a request that did not pass. A right token (`?token=…` or the form) sets a cookie that
holds an HMAC of the token, never the token; wrong tokens from one address are answered ever more slowly."""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import html
import os
import secrets
import socket
import time
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

from trainer.core import paths

COOKIE = "m3_studio_auth"
BROWSER_COOKIE = "m3_studio_browser"    # a random id per browser: whose Configure draft is whose (app/draft.py)
OPEN_PATHS = ("/_stcore/health",)       # say "ok" and nothing else: process supervisors poll it
LOOPBACK = ("127.0.0.1", "localhost", "::1")
SLOW_AFTER = 3                          # wrong tokens from one address before the answers slow down


def loopback(address: str | None) -> bool:
    return bool(address) and (address in LOOPBACK or address.startswith("127."))


def token_from_env(env=os.environ) -> str | None:
    """The operator's token: M3_STUDIO_TOKEN, else the first line of the file M3_STUDIO_TOKEN_FILE."""
    if env.get("M3_STUDIO_TOKEN"):
        return env["M3_STUDIO_TOKEN"].strip()
    if env.get("M3_STUDIO_TOKEN_FILE"):
        return Path(env["M3_STUDIO_TOKEN_FILE"]).expanduser().read_text().strip().splitlines()[0]
    return None


def own_names(address: str | None, env=os.environ) -> set[str]:
    """The names a request may carry in its Host header: the bound address, the loopback, this machine's name and
    addresses, and those the operator adds (M3_STUDIO_HOSTS, comma-separated, e.g. a reverse proxy's name)."""
    names = {*LOOPBACK, socket.gethostname().lower(), socket.getfqdn().lower()}
    if address and address not in ("0.0.0.0", "::"):
        names.add(address.lower())
    try:
        names.update(socket.gethostbyname_ex(socket.gethostname())[2])
    except OSError:
        pass
    try:
        from streamlit import net_util
        names.add(net_util.get_internal_ip() or "127.0.0.1")
    except Exception:  # noqa: BLE001 - no route out: the loopback and the names above remain
        pass
    names.update(h.strip().lower() for h in env.get("M3_STUDIO_HOSTS", "").split(",") if h.strip())
    return names


def host_name(host: str) -> str:
    """`example.org:8501` → `example.org`; `[::1]:8501` → `::1`."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


@dataclass
class Gate:
    token: str | None                    # None: no token asked (the loopback, unless the operator asks)
    hosts: set[str]
    failures: dict[str, tuple[int, float]] = field(default_factory=dict)

    @classmethod
    def for_server(cls, address: str | None, env=os.environ) -> tuple["Gate", bool]:
        """The gate for a server bound to `address`, and whether its token was generated here (to be printed)."""
        token = token_from_env(env)
        generated = False
        if token is None and (not loopback(address) or env.get("M3_STUDIO_REQUIRE_TOKEN") == "1"):
            token, generated = secrets.token_urlsafe(24), True
        return cls(token, own_names(address, env)), generated

    def cookie_value(self) -> str:
        return hmac.new(self.token.encode(), b"m3-studio cookie", hashlib.sha256).hexdigest()

    def right(self, given: str | None) -> bool:
        return given is not None and hmac.compare_digest(
            hashlib.sha256(given.encode()).digest(), hashlib.sha256(self.token.encode()).digest())

    def delay(self, client: str) -> float:
        count, _ = self.failures.get(client, (0, 0.0))
        return 0.0 if count < SLOW_AFTER else min(2.0 ** (count - SLOW_AFTER), 30.0)

    def failed(self, client: str) -> None:
        count, _ = self.failures.get(client, (0, 0.0))
        self.failures[client] = (count + 1, time.monotonic())
        if len(self.failures) > 10_000:                         # forget the oldest addresses, not the memory
            for key in sorted(self.failures, key=lambda k: self.failures[k][1])[:5_000]:
                del self.failures[key]


GATE: Gate | None = None                # set at the server's start (app/main.py's lifespan)


def start(address: str | None, port: int, env=os.environ) -> Gate:
    """Make the gate for this server and print its URL once when the token was generated or given."""
    global GATE
    GATE, generated = Gate.for_server(address, env)
    paths.CONFINED = not loopback(address)      # typed paths: only under the allowed roots (trainer.paths)
    if GATE.token:
        shown = address if address and address not in ("0.0.0.0", "::") else socket.gethostname()
        secret = GATE.token if generated else "<your token>"
        print(f"\n  M3 Studio asks for a token: open http://{shown}:{port}/?token={secret}\n", flush=True)
    return GATE


def _headers(scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}


def _cookies(headers: dict[str, str]) -> dict[str, str]:
    jar = SimpleCookie()
    try:
        jar.load(headers.get("cookie", ""))
    except Exception:  # noqa: BLE001 - a malformed cookie header counts as none
        return {}
    return {k: m.value for k, m in jar.items()}


FORM = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>M3 Studio</title>
<meta name="viewport" content="width=device-width,initial-scale=1"></head>
<body style="font-family:sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem">
<h1>M3 Studio</h1><p>This dashboard asks for its token. It was printed where the server was started
(<code>M3 Studio asks for a token: open http://…/?token=…</code>); ask whoever runs it.</p>{note}
<form method="get" action="{action}"><label>Token <input name="token" type="password" autocomplete="off"
autofocus required></label> <button type="submit">Open</button></form></body></html>"""


class Door:
    """ASGI middleware: Host first (every request, the loopback too), then the token where one is asked."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket") or GATE is None:
            return await self.app(scope, receive, send)
        headers = _headers(scope)
        if host_name(headers.get("host", "")) not in GATE.hosts:
            return await self._refuse(scope, receive, send, 403, "This server does not answer to that Host name.")
        cookies = _cookies(headers)
        if GATE.token is None or scope["path"] in OPEN_PATHS or hmac.compare_digest(cookies.get(COOKIE, ""),
                                                                                      GATE.cookie_value()):
            return await self._pass(scope, receive, send, cookies)
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
        client = (scope.get("client") or ("?", 0))[0]
        note = ""
        if "token" in query:
            await asyncio.sleep(GATE.delay(client))
            if GATE.right(query["token"]):
                GATE.failures.pop(client, None)
                rest = urlencode({k: v for k, v in query.items() if k != "token"})
                where = scope.get("root_path", "") + scope["path"] + (f"?{rest}" if rest else "")
                return await self._respond(send, 303, b"", "text/plain", [
                    (b"location", where.encode()),
                    (b"set-cookie", f"{COOKIE}={GATE.cookie_value()}; Path=/; HttpOnly; SameSite=Lax".encode())])
            GATE.failed(client)
            note = "<p style='color:#b91c1c'>That token is not this server's.</p>"
        if scope["type"] == "http" and scope.get("method") == "GET" and not scope["path"].startswith(
                ("/_stcore", "/static", "/media", "/component", "/app/static", "/api")):
            page = FORM.format(note=note, action=html.escape(scope["path"], quote=True))
            return await self._respond(send, 401, page.encode(), "text/html; charset=utf-8", [])
        return await self._refuse(scope, receive, send, 401, "This dashboard asks for its token.")

    async def _pass(self, scope, receive, send, cookies: dict[str, str]):
        if scope["type"] != "http" or BROWSER_COOKIE in cookies:
            return await self.app(scope, receive, send)

        async def with_browser_id(message):                    # every browser gets its own id, once
            if message["type"] == "http.response.start":
                message = dict(message, headers=[*message.get("headers", []), (
                    b"set-cookie",
                    f"{BROWSER_COOKIE}={secrets.token_urlsafe(16)}; Path=/; HttpOnly; SameSite=Lax".encode())])
            await send(message)
        return await self.app(scope, receive, with_browser_id)

    @staticmethod
    async def _respond(send, status: int, body: bytes, kind: str, extra: list):
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", kind.encode()), (b"content-length", str(len(body)).encode()),
                                (b"cache-control", b"no-store"), *extra]})
        await send({"type": "http.response.body", "body": body})

    async def _refuse(self, scope, receive, send, status: int, text: str):
        if scope["type"] == "websocket":
            await receive()                                      # the websocket.connect message
            return await send({"type": "websocket.close", "code": 1008, "reason": text[:120]})
        return await self._respond(send, status, text.encode(), "text/plain; charset=utf-8", [])
