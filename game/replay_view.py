"""The replay viewer's server: the page, and a JSON API over a player's recordings.

Names from the browser are never paths: they are looked up in a table built from the
profile's recordings folder (plus the file given on the command line), so nothing outside
the data directory can be read; a symlink in the folder that points out of it is ignored.
Every route checks the Host header (``game.server.guard_middleware``), so a DNS-rebinding
page cannot read recordings. The game's server adds these routes to its own app
(``add_replay_routes``: one site, ``/`` the game and ``/replay`` the viewer); ``main.py
replay`` serves them alone (``create_replay_app``). A recording that cannot be read is
listed with its error; it never takes the list down with it. Ticks are served in slices
read straight from the file (the records have a fixed size), so seeking in a 30-minute
recording reads only what is shown.

The overlays that need a model (the mirror's ghost, where it disagrees, relevance weights)
come from an ``analyze`` function handed in by ``main.py`` (it lives in the learner).
"""

from __future__ import annotations

import asyncio
import json
import logging
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from aiohttp import web

from game.engine import State
from game.profiles import recordings_in
from game.recording import RECORD, RecordingError, RecordingFile
from game.server import guard_middleware

log = logging.getLogger(__name__)

MAX_SLICE = 3600
WEB_ROOT = Path(__file__).resolve().parent.parent / "assets" / "web"

# The record layout as a numpy dtype, to turn a slice of the file into columns at once.
_FIELDS = ["tick", "left_cmd", "right_cmd", "model_version", *[f"s_{f}" for f in State._fields]]
_FORMATS = "qddi" + "qddddddiiiiQii"
_NUMPY_CODES = {"q": "<i8", "Q": "<u8", "d": "<f8", "i": "<i4"}
_OFFSETS = [struct.calcsize("<" + _FORMATS[:i]) for i in range(len(_FORMATS))]
RECORD_DTYPE = np.dtype(
    {
        "names": _FIELDS,
        "formats": [_NUMPY_CODES[c] for c in _FORMATS],
        "offsets": _OFFSETS,
        "itemsize": RECORD.size,
    }
)

Analyzer = Callable[[Path, str | None], dict]
ModelLister = Callable[[], list[dict]]


@dataclass
class ReplayLibrary:
    """The recordings the viewer may open: a player's folder and explicitly given files."""

    recordings_dir: Path
    extra_files: list[Path] = field(default_factory=list)
    focus: str | None = None
    _summaries: dict = field(default_factory=dict)

    def table(self) -> dict[str, Path]:
        table: dict[str, Path] = {path.name: path for path in recordings_in(self.recordings_dir)}
        for path in self.extra_files:
            name = path.name if table.get(path.name, path) == path else f"given-{path.name}"
            table[name] = path
        return table

    def resolve(self, name: str) -> Path:
        path = self.table().get(name)
        if path is None:
            raise _json_error(web.HTTPNotFound, f"no recording named {name!r}")
        return path

    def summary(self, name: str, path: Path) -> dict:
        try:
            stat = path.stat()
        except OSError as exc:
            return {"name": name, "error": f"cannot read: {exc.strerror}"}
        key = (path, stat.st_mtime_ns, stat.st_size)
        if key not in self._summaries:
            try:
                self._summaries[key] = self._summarize(name, path)
            except Exception as exc:  # one bad file must not take the whole list down
                log.exception("cannot summarize recording %s", path)
                return {"name": name, "error": f"unreadable: {type(exc).__name__}"}
        return self._summaries[key]

    @staticmethod
    def _summarize(name: str, path: Path) -> dict:
        try:
            recording = RecordingFile.open(path)
        except RecordingError as exc:
            return {"name": name, "error": str(exc)}
        columns = read_columns(recording, 0, recording.count, verify=False)
        versions = sorted({int(v) for v in columns["model_version"]}) if recording.count else []
        score = [0, 0]
        if recording.count:
            score = [int(columns["s_score_left"][-1]), int(columns["s_score_right"][-1])]
        return {
            "name": name,
            "player": recording.header.get("player"),
            "started_at": recording.header.get("started_at"),
            "ticks": recording.count,
            "seconds": recording.count / recording.params.tick_rate,
            "score": score,
            "versions": versions,
            "truncated": recording.truncated_bytes > 0,
            "error": None,
        }


def read_columns(recording: RecordingFile, start: int, count: int, verify: bool = True) -> dict:
    """Records as numpy columns; ``verify`` checks each record's checksum."""
    data = recording.read_bytes(start, count, verify)
    array = np.frombuffer(data, dtype=RECORD_DTYPE, count=len(data) // RECORD.size)
    return {name: array[name] for name in _FIELDS}


def _json_error(status: type[web.HTTPException], message: str) -> web.HTTPException:
    return status(text=_dumps({"error": message}), content_type="application/json")


def add_replay_routes(
    app: web.Application,
    library: ReplayLibrary,
    analyze: Analyzer | None = None,
    list_models: ModelLister | None = None,
    web_root: Path = WEB_ROOT,
) -> None:
    analyses: dict = {}

    async def page(request: web.Request) -> web.FileResponse:
        return web.FileResponse(web_root / "replay.html")

    async def recordings(request: web.Request) -> web.Response:
        table = library.table()
        summaries = await asyncio.to_thread(
            lambda: [library.summary(name, path) for name, path in table.items()]
        )
        summaries.sort(key=lambda s: s.get("started_at") or 0, reverse=True)
        return web.json_response({"recordings": summaries, "focus": library.focus})

    def open_recording(name: str) -> RecordingFile:
        try:
            return RecordingFile.open(library.resolve(name))
        except RecordingError as exc:
            raise web.HTTPUnprocessableEntity(
                text=_dumps({"error": str(exc)}), content_type="application/json"
            ) from None

    async def header(request: web.Request) -> web.Response:
        name = request.match_info["name"]
        recording = open_recording(name)
        columns = await asyncio.to_thread(read_columns, recording, 0, recording.count, False)
        versions = columns["model_version"]
        changes = [
            {"index": int(i), "tick": int(columns["tick"][i]), "version": int(versions[i])}
            for i in np.flatnonzero(np.diff(versions, prepend=0) != 0)
        ]
        warning = None
        if recording.truncated_bytes:
            warning = (
                f"this recording ends in a partial record ({recording.truncated_bytes} bytes); "
                f"it replays up to its last whole tick"
            )
        return web.json_response(
            {
                "name": name,
                "header": recording.header,
                "params": recording.params.to_dict(),
                "ticks": recording.count,
                "truncated_bytes": recording.truncated_bytes,
                "warning": warning,
                "version_changes": changes,
            }
        )

    async def ticks(request: web.Request) -> web.Response:
        recording = open_recording(request.match_info["name"])
        try:
            start = int(request.query.get("start", "0"))
            count = min(int(request.query.get("count", "600")), MAX_SLICE)
        except ValueError:
            raise _json_error(web.HTTPBadRequest, "start and count must be integers") from None
        if start < 0 or count < 0:
            raise _json_error(web.HTTPBadRequest, "start and count must not be negative")
        try:
            columns = await asyncio.to_thread(read_columns, recording, start, count)
        except RecordingError as exc:
            raise web.HTTPUnprocessableEntity(
                text=_dumps({"error": str(exc)}), content_type="application/json"
            ) from None
        n = len(columns["tick"])
        return web.json_response(
            {
                "start": start,
                "count": n,
                "tick": columns["tick"].tolist(),
                "ball_x": np.round(columns["s_ball_x"], 5).tolist(),
                "ball_y": np.round(columns["s_ball_y"], 5).tolist(),
                "left_y": np.round(columns["s_left_y"], 5).tolist(),
                "right_y": np.round(columns["s_right_y"], 5).tolist(),
                "score_left": columns["s_score_left"].tolist(),
                "score_right": columns["s_score_right"].tolist(),
                "left_cmd": np.round(columns["left_cmd"], 4).tolist(),
                "right_cmd": np.round(columns["right_cmd"], 4).tolist(),
                "model_version": columns["model_version"].tolist(),
                "serving": (columns["s_serve_ticks"] > 0).tolist(),
            }
        )

    async def analysis(request: web.Request) -> web.Response:
        name = request.match_info["name"]
        path = library.resolve(name)
        model = request.query.get("model") or None
        if analyze is None:
            raise _json_error(web.HTTPNotFound, "no analysis available")
        key = (path, path.stat().st_mtime_ns, model)
        if key not in analyses:
            try:
                analyses[key] = await asyncio.to_thread(analyze, path, model)
            except RecordingError as exc:
                raise web.HTTPUnprocessableEntity(
                    text=_dumps({"error": str(exc)}), content_type="application/json"
                ) from None
            except LookupError as exc:
                raise _json_error(web.HTTPNotFound, str(exc).strip("'\"")) from None
        return web.json_response(analyses[key])

    async def models(request: web.Request) -> web.Response:
        return web.json_response({"models": list_models() if list_models else []})

    app.router.add_get("/replay", page)
    app.router.add_get("/api/recordings", recordings)
    app.router.add_get("/api/recordings/{name}/header", header)
    app.router.add_get("/api/recordings/{name}/ticks", ticks)
    app.router.add_get("/api/recordings/{name}/analysis", analysis)
    app.router.add_get("/api/models", models)


NO_GAME_PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="color-scheme" content="dark">
  <title>Mirror Pong — no game here</title>
  <link rel="icon" href="data:,">
  <link rel="stylesheet" href="/static/common.css">
</head>
<body>
  <main id="no-game" style="max-width: 40em; margin: 3em auto; padding: 0 1em">
    <h1>No game runs on this server</h1>
    <p>This is the replay viewer on its own (<code>python main.py replay</code>).
    To play, start <code>python main.py play</code>: the game's page links to your replays,
    served by the game at <code>/replay</code>.</p>
    <p><a id="replays-link" href="/replay">Back to your recordings</a></p>
  </main>
</body>
</html>
"""


def _dumps(data: dict) -> str:
    return json.dumps(data)


def create_replay_app(
    library: ReplayLibrary,
    analyze: Analyzer | None = None,
    list_models: ModelLister | None = None,
    web_root: Path = WEB_ROOT,
    host: str = "127.0.0.1",
) -> web.Application:
    """A server with no game (``main.py replay``): the viewer page, its API and the shared
    static files; its ``/`` (where the viewer's Play link leads) says how to start a game.
    ``host`` is the address it serves on: the Host header every request must name.
    (While a game runs, its own server serves the viewer too: ``add_replay_routes``.)"""
    app = web.Application(middlewares=[guard_middleware(host)])
    add_replay_routes(app, library, analyze, list_models, web_root)

    async def index(request: web.Request) -> web.Response:
        return web.Response(text=NO_GAME_PAGE, content_type="text/html")

    app.router.add_get("/", index)
    app.router.add_static("/static/", web_root, show_index=False, follow_symlinks=False)
    return app
