"""The web server: the page, its assets, and one WebSocket per browser tab.

``create_app(config, session)`` builds an aiohttp app whose lifespan runs the session loop
on the real clock. Each client gets the newest frame as JSON once per tick; a slow client
skips frames instead of holding anything up. Client messages are JSON objects with a
``type`` field, validated against ``CLIENT_MESSAGE_SCHEMA``; anything malformed, unknown or
larger than ``MAX_MESSAGE_BYTES`` or nested deeper than ``MAX_MESSAGE_DEPTH`` is dropped,
with a log line rate-limited for the whole server. An HTTP request whose Host is not this
server's (DNS rebinding) and a WebSocket whose Origin is not are refused with 403; the
replay viewer's app uses the same checks (``guard_middleware``).
"""

from __future__ import annotations

import asyncio
import errno
import ipaddress
import json
import logging
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import jsonschema
from aiohttp import WSMsgType, web

from game import safe_json
from game.engine import Event
from game.ports import LearningPort, LearningStats, control_types
from game.session import Clock, RealClock, Session

log = logging.getLogger(__name__)

WEB_ROOT = Path(__file__).resolve().parent.parent / "assets" / "web"
MAX_MESSAGE_BYTES = 1024
MAX_MESSAGE_DEPTH = 4  # client messages are flat objects
MAX_URL_PATH = 1024  # longer request paths are answered 414 before any route sees them
PROTOCOL_VERSION = 1
_LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1"}

CLIENT_MESSAGE_SCHEMA: dict = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["type"],
    "oneOf": [
        {  # keyboard: -1 up, 0 still, +1 down
            "properties": {
                "type": {"const": "input"},
                "command": {"type": "number", "minimum": -1, "maximum": 1},
            },
            "required": ["command"],
            "additionalProperties": False,
        },
        {  # pointer / touch: where the paddle should go (0 top .. 1 bottom), null to let go
            "properties": {
                "type": {"const": "pointer"},
                "y": {"type": ["number", "null"], "minimum": 0, "maximum": 1},
            },
            "required": ["y"],
            "additionalProperties": False,
        },
        {
            "properties": {"type": {"const": "pause"}, "paused": {"type": "boolean"}},
            "required": ["paused"],
            "additionalProperties": False,
        },
        {
            "properties": {"type": {"const": "new_match"}},
            "additionalProperties": False,
        },
    ],
}


@dataclass
class ServerConfig:
    host: str = "127.0.0.1"
    port: int = 8000
    web_root: Path = WEB_ROOT
    clock_factory: Callable[[], Clock] = RealClock


class _Client:
    """One connected tab: the newest frame waiting to go out, and a task sending it."""

    def __init__(self, ws: web.WebSocketResponse) -> None:
        self.ws = ws
        self.latest: str | None = None
        self.sticky: str | None = None  # a frame that must not be skipped (learning stats)
        self.ready = asyncio.Event()
        self.dropped = 0

    def offer(self, message: str, sticky: bool = False) -> None:
        if sticky:
            self.sticky = message
        self.latest = message
        self.ready.set()

    async def send_forever(self) -> None:
        while not self.ws.closed:
            await self.ready.wait()
            self.ready.clear()
            sticky, self.sticky = self.sticky, None
            latest, self.latest = self.latest, None
            for message in (sticky, None if latest is sticky else latest):
                if message is None:
                    continue
                try:
                    await self.ws.send_str(message)
                except (ConnectionError, RuntimeError):
                    return


def frame_message(
    session: Session, events: tuple[Event, ...], learning: LearningStats | None = None
) -> dict:
    state = session.state
    frame = {
        "type": "frame",
        "tick": state.tick,
        "ball": [state.ball_x, state.ball_y],
        "left_y": state.left_y,
        "right_y": state.right_y,
        "score": [state.score_left, state.score_right],
        "serving": state.serve_ticks > 0,
        "paused": session.paused,
        "winner": state.winner,
        "opponent": {
            "label": session.opponent.label,
            "version": session.opponent.model_version,
        },
        "recording": session.recording_error,
        "resumed": session.resumed_at is not None,  # this match went on after a restart
        "events": [event.kind for event in events],
    }
    if learning is not None:
        frame["learning"] = learning
    return frame


def hello_message(session: Session) -> dict:
    params = session.params
    return {
        "type": "hello",
        "protocol": PROTOCOL_VERSION,
        "player": session.player,
        "tick_rate": params.tick_rate,
        "court": {
            "width": params.court_width,
            "height": params.court_height,
            "paddle_inset": params.paddle_inset,
            "paddle_half_height": params.paddle_half_height,
            "ball_radius": params.ball_radius,
        },
        "points_to_win": params.points_to_win,
        # Where the match was picked up after a restart (None: it started here).
        "resumed": None
        if session.resumed_at is None
        else {
            "tick": session.resumed_at.tick,
            "score": [session.resumed_at.score_left, session.resumed_at.score_right],
        },
    }


def host_allowed(request: web.Request, bound_host: str) -> bool:
    """Every HTTP request must name this server in its Host header: a loopback name, the
    host it was told to serve, or an IP address. A DNS-rebinding page reaches a loopback
    server under its own domain name, so its requests fail this check."""
    hostname = (urlsplit(f"//{request.host}").hostname or "").lower()
    if hostname in _LOOPBACK_NAMES or hostname == bound_host.lower():
        return True
    try:
        ipaddress.ip_address(hostname)
    except ValueError:
        return False
    return True  # a name never resolved by DNS cannot be rebound


def guard_middleware(bound_host: str):
    """The checks every route of both apps (game and replay viewer) shares: a foreign Host
    is refused with 403, an overlong path with 414, and a path the file system cannot
    represent (a name too long, a file used as a folder) answers 404 instead of 500."""

    @web.middleware
    async def guard(request: web.Request, handler):
        if not host_allowed(request, bound_host):
            _DROP_LOG.note(f"refused an HTTP request for foreign Host {request.host[:80]!r}")
            raise web.HTTPForbidden(text="unknown Host")
        if len(request.raw_path) > MAX_URL_PATH:
            raise web.HTTPRequestURITooLong(text="path too long")
        try:
            return await handler(request)
        except OSError as exc:
            if exc.errno in (errno.ENAMETOOLONG, errno.ENOTDIR, errno.ELOOP):
                raise web.HTTPNotFound() from None
            raise

    return guard


def origin_allowed(request: web.Request, bound_host: str) -> bool:
    """A browser's WebSocket must come from a page this server served. Clients that send no
    Origin (not browsers, so not a cross-site page) are let in."""
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    parts = urlsplit(origin)
    if parts.scheme not in {"http", "https"} or parts.netloc != request.host:
        return False
    # Bound to loopback, only loopback names are ours (this also stops DNS rebinding).
    if bound_host in _LOOPBACK_NAMES:
        return (parts.hostname or "") in _LOOPBACK_NAMES
    return True


SESSION_KEY = web.AppKey("session", Session)
CONFIG_KEY = web.AppKey("config", ServerConfig)
CLIENTS_KEY = web.AppKey("clients", weakref.WeakSet)
HUD_EVERY_TICKS = 30  # the learning panel's figures go out twice a second


def create_app(
    config: ServerConfig, session: Session, learning: LearningPort | None = None
) -> web.Application:
    """The game's site for ``session``; ``learning``, when plugged in, gets its controls
    from the page and its HUD stats shown there."""
    app = web.Application(middlewares=[guard_middleware(config.host)])
    app[SESSION_KEY] = session
    app[CONFIG_KEY] = config
    app[CLIENTS_KEY] = weakref.WeakSet()
    schemas = list(learning.control_schemas) if learning is not None else []
    validator = jsonschema.Draft202012Validator(
        {**CLIENT_MESSAGE_SCHEMA, "oneOf": CLIENT_MESSAGE_SCHEMA["oneOf"] + schemas}
    )
    controls = control_types(learning) if learning is not None else set()
    published = iter(range(1 << 62))

    def publish(session: Session, events: tuple[Event, ...]) -> None:
        clients = app[CLIENTS_KEY]
        hud_due = next(published) % HUD_EVERY_TICKS == 0
        if not clients:
            return
        stats = learning.hud_stats() if learning is not None and hud_due else None
        message = json.dumps(frame_message(session, events, stats))
        for client in clients:
            client.offer(message, sticky=stats is not None)  # stats are never skipped

    def handle_control(message: dict) -> bool:
        if message["type"] not in controls:
            return False
        learning.handle_control(message)
        return True

    async def run_session(app: web.Application):
        session.subscribers.append(publish)
        task = asyncio.create_task(session.run(config.clock_factory()), name="session-loop")
        task.add_done_callback(_report_loop_end)
        yield
        session.stop()
        await asyncio.gather(task, return_exceptions=True)
        session.subscribers.remove(publish)
        session.close()

    async def index(request: web.Request) -> web.FileResponse:
        return web.FileResponse(config.web_root / "index.html")

    async def websocket(request: web.Request) -> web.WebSocketResponse:
        if not origin_allowed(request, config.host):
            log.warning("refused a WebSocket from foreign origin %r", request.headers.get("Origin"))
            raise web.HTTPForbidden(text="foreign origin")
        ws = web.WebSocketResponse(heartbeat=20, max_msg_size=1 << 20, compress=False)
        await ws.prepare(request)
        client = _Client(ws)
        await ws.send_str(json.dumps(hello_message(session)))
        if not app[CLIENTS_KEY] and session.left_driver is None and not session.waiting_to_resume:
            session.set_paused(False)  # a player is back: the game was waiting for them
        app[CLIENTS_KEY].add(client)
        sender = asyncio.create_task(client.send_forever())
        try:
            async for message in ws:
                if message.type == WSMsgType.TEXT:
                    handle_client_message(session, message.data, client, validator, handle_control)
                elif message.type == WSMsgType.BINARY:
                    _drop(client, "binary message")
        finally:
            app[CLIENTS_KEY].discard(client)
            sender.cancel()
            if not app[CLIENTS_KEY] and session.left_driver is None:
                # Nobody is watching: let go of held keys and wait for the player.
                session.set_key_command(0.0)
                session.set_paused(True)
        return ws

    async def loop_figures(request: web.Request) -> web.Response:
        """How punctual the loop has been (for ``bench soak``); counted on request."""
        return web.json_response(
            {
                "ticks": session.ticks_run,
                "late_ticks": session.late_ticks,
                "tick": session.state.tick,
            }
        )

    async def close_sockets(app: web.Application) -> None:
        for client in list(app[CLIENTS_KEY]):
            await client.ws.close(code=1001, message=b"server shutting down")

    if session.left_driver is None:
        session.set_paused(True)  # the first serve waits for the first player to connect
    app.on_shutdown.append(close_sockets)
    app.cleanup_ctx.append(run_session)
    app.router.add_get("/", index)
    app.router.add_get("/ws", websocket)
    app.router.add_get("/api/loop", loop_figures)
    app.router.add_static("/static/", config.web_root, show_index=False, follow_symlinks=False)
    return app


class _DropLog:
    """Rate-limits the log lines about refused client input for the whole server, so a
    client reconnecting in a loop cannot flood the log: at most ``per_window`` lines per
    ``window`` seconds, then one line saying how many were left out."""

    def __init__(self, per_window: int = 20, window: float = 60.0) -> None:
        self.per_window = per_window
        self.window = window
        self.total = 0
        self._window_start = float("-inf")
        self._logged = 0
        self._suppressed = 0

    def note(self, line: str) -> None:
        self.total += 1
        now = time.monotonic()
        if now - self._window_start >= self.window:
            if self._suppressed:
                log.warning("... %d more such lines left out", self._suppressed)
            self._window_start, self._logged, self._suppressed = now, 0, 0
        if self._logged < self.per_window:
            self._logged += 1
            log.warning("%s", line)
        else:
            self._suppressed += 1


_DROP_LOG = _DropLog()  # one per process: a process runs one server


def _drop(client: _Client, reason: str) -> None:
    client.dropped += 1
    _DROP_LOG.note(
        f"dropped a client message ({reason}); {client.dropped} from this client, "
        f"{_DROP_LOG.total + 1} in all"
    )


def _report_loop_end(task: asyncio.Task) -> None:
    """The session loop ends only when told to; anything else is logged, never silent."""
    if not task.cancelled() and task.exception() is not None:
        log.error("the game loop stopped", exc_info=task.exception())


def handle_client_message(
    session: Session,
    data: str,
    client: _Client,
    validator: jsonschema.Draft202012Validator,
    handle_control: Callable[[dict], bool] = lambda message: False,
) -> None:
    """Apply one client message; anything malformed or unknown is dropped with a log line."""
    if len(data) > MAX_MESSAGE_BYTES:
        _drop(client, f"{len(data)} bytes, over the {MAX_MESSAGE_BYTES}-byte limit")
        return
    try:
        message = safe_json.loads(data, MAX_MESSAGE_BYTES, MAX_MESSAGE_DEPTH)
    except ValueError as exc:  # not JSON, too deep, a non-finite or huge number
        _drop(client, str(exc)[:200])
        return
    errors = list(validator.iter_errors(message))
    if errors:
        _drop(client, f"does not fit the schema: {errors[0].message[:200]}")
        return
    kind = message["type"]
    if kind == "input":
        session.set_key_command(float(message["command"]))
    elif kind == "pointer":
        session.set_pointer(message["y"])
    elif kind == "pause":
        session.set_paused(message["paused"])
    elif kind == "new_match":
        session.new_match()
    else:
        handle_control(message)  # a learning control (the schema admitted only declared ones)
