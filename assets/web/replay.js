/*
 * Mirror Pong — the replay viewer's entry (/replay, page in replay.html, looks in replay.css).
 *
 * What lives here, top to bottom:
 *   - state        the loaded recording, the playback position, and what tests read
 *                  (window.replayView)
 *   - api          fetch helpers for the JSON API of game/replay_view.py; an error answer
 *                  ({"error": ...}, HTTP 4xx) becomes an ApiError carrying that message
 *   - recordings   the list (/api/recordings), newest first; clicking one loads it and puts
 *                  it in the address (?file=NAME)
 *   - loading      a recording's header, then its records through a ChunkCache
 *                  (./replay_cache.js: chunks of /ticks fetched on demand, least recently used
 *                  dropped); the next chunk is prefetched while playing
 *   - analysis     /analysis?model= (ghost paddle, disagreements, relevance) with a spinner;
 *                  the model chooser (/api/models) asks again
 *   - playback     play/pause, speed, step, seek; a requestAnimationFrame loop advances a
 *                  fractional record position and interpolates between records when playing
 *   - drawing      the court as the live game draws it (court units, centre line, blocky
 *                  score digits, paddles, ball; shared with app.js in ./court.js) plus the
 *                  ghost paddle, and the timeline strips under the scrub bar (drawn by
 *                  ./replay_strips.js from what this file hands it)
 *   - input        buttons, keys (Space, ←/→, ,/., Shift for a second, Home/End), strips
 *
 * Record index i (0-based) is the i-th record of the file, i.e. the state after one tick;
 * the time shown is i / tick_rate.
 */

import { drawBall, drawCourt, drawPaddles, drawScore, fitCourt, lerp, sizeCourt } from "./court.js";
import { CHUNK, ChunkCache } from "./replay_cache.js";
import { buildStripImages, paintStrip, stripFraction } from "./replay_strips.js";
import { $, PALETTE, SNAP_DISTANCE, clock, percent, setText, withAlpha } from "./shared.js";

const SPEEDS = [0.25, 0.5, 1, 2, 4, 8];
const STORAGE_KEY = "mirror-pong-replay-overlays";

// ---- state -------------------------------------------------------------------------------

/** What automated tests (and the console) can read; kept current. */
const replayView = {
  loaded: null,         // name of the recording shown, once its header and first records came
  index: 0,             // current record index
  playing: false,
  ghostVisible: false,  // the ghost paddle was drawn in the latest frame
  ticks: 0,             // records in the loaded recording
  error: null,          // the message shown for a failed load, or null
  speed: 1,
  analysis: "none",     // "none" | "loading" | "ready" | "error"
  chunksFetched: 0,     // /ticks requests made for the loaded recording
};
window.replayView = replayView;

const DEFAULT_COURT = {
  court_width: 1.6, court_height: 1.0, paddle_inset: 0.04, paddle_half_height: 0.09,
  ball_radius: 0.012, tick_rate: 60,
};

const rec = {
  name: null,
  token: 0,              // bumps on every load; answers for an older load are dropped
  params: { ...DEFAULT_COURT },
  tickRate: 60,
  ticks: 0,
  header: null,
  versionChanges: [],
  chunks: null,          // ChunkCache of the loaded recording
  pos: 0,                // fractional record index (playback runs between records)
  analysis: null,        // the latest /analysis answer for this recording
  analysisToken: 0,
};

let recordingsList = [];
let dirty = true;        // something on screen changed: redraw on the next animation frame
let stripsDirty = true;  // the strips' bins must be recomputed (new data or new size)

const el = {
  list: $("recordings"),
  listStatus: $("list-status"),
  recTitle: $("rec-title"),
  warning: $("warning"),
  error: $("error"),
  area: $("court-area"),
  box: $("court-box"),
  canvas: $("court"),
  message: $("court-message"),
  messageTitle: $("court-message-title"),
  messageSub: $("court-message-sub"),
  stepBack: $("step-back"),
  play: $("play-btn"),
  stepFwd: $("step-fwd"),
  speed: $("speed"),
  time: $("time"),
  tick: $("tick"),
  score: $("score"),
  buffering: $("buffering"),
  scrub: $("scrub"),
  stripDisagree: $("strip-disagree"),
  stripRelevance: $("strip-relevance"),
  stripVersions: $("strip-versions"),
  labelDisagree: $("label-disagree"),
  labelRelevance: $("label-relevance"),
  labelVersions: $("label-versions"),
  ghost: $("overlay-ghost"),
  disagree: $("overlay-disagree"),
  relevance: $("overlay-relevance"),
  versions: $("overlay-versions"),
  model: $("model"),
  analysisStatus: $("analysis-status"),
};
const ctx = el.canvas.getContext("2d");

// ---- api ---------------------------------------------------------------------------------

class ApiError extends Error {
  constructor(message, status) {
    super(message);
    this.status = status;
  }
}

async function getJSON(url) {
  let response;
  try {
    response = await fetch(url, { headers: { Accept: "application/json" } });
  } catch {
    throw new ApiError("cannot reach the replay server (is `main.py replay` still running?)", 0);
  }
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  if (!response.ok || (body && typeof body.error === "string" && body.error)) {
    const message = body && typeof body.error === "string" && body.error
      ? body.error : `the server answered ${response.status} ${response.statusText}`.trim();
    throw new ApiError(message, response.status);
  }
  if (body === null) throw new ApiError("the server's answer is not JSON", response.status);
  return body;
}

const api = {
  recordings: () => getJSON("/api/recordings"),
  header: (name) => getJSON(`/api/recordings/${encodeURIComponent(name)}/header`),
  ticks: (name, start, count) =>
    getJSON(`/api/recordings/${encodeURIComponent(name)}/ticks?start=${start}&count=${count}`),
  analysis: (name, model) => getJSON(`/api/recordings/${encodeURIComponent(name)}/analysis` +
    (model ? `?model=${encodeURIComponent(model)}` : "")),
  models: () => getJSON("/api/models"),
};

// ---- formatting (clock and percent are in ./shared.js) -----------------------------------

function dateText(unixSeconds) {
  if (typeof unixSeconds !== "number" || !isFinite(unixSeconds)) return "unknown date";
  const d = new Date(unixSeconds * 1000);
  const now = new Date();
  const options = { weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" };
  if (d.getFullYear() !== now.getFullYear()) options.year = "numeric";
  return d.toLocaleString(undefined, options);
}

function versionsText(versions) {
  if (!Array.isArray(versions) || !versions.length) return "";
  const sorted = [...versions].sort((a, b) => a - b);
  if (sorted.length > 4) return `v${sorted[0]}–v${sorted[sorted.length - 1]} (${sorted.length})`;
  return sorted.map((v) => `v${v}`).join(" ");
}

// ---- recordings list ---------------------------------------------------------------------

async function loadList() {
  let answer;
  try {
    answer = await api.recordings();
  } catch (err) {
    el.listStatus.textContent = `Could not list recordings: ${err.message}`;
    el.listStatus.className = "note banner bad";
    return null;
  }
  recordingsList = Array.isArray(answer.recordings) ? answer.recordings : [];
  recordingsList.sort((a, b) => {
    const ta = startedAt(a) ?? -Infinity;
    const tb = startedAt(b) ?? -Infinity;
    return tb - ta || String(b.name).localeCompare(String(a.name));
  });
  renderList();
  return answer.focus || null;
}

/** When a recording started: its header's time, else the time in its file name (if any). */
function startedAt(item) {
  if (typeof item.started_at === "number" && isFinite(item.started_at)) return item.started_at;
  const m = /^(\d{4})(\d{2})(\d{2})-(\d{2})(\d{2})(\d{2})/.exec(String(item.name || ""));
  if (!m) return null;
  const [, y, mo, d, h, mi, sec] = m.map(Number);
  return new Date(y, mo - 1, d, h, mi, sec).getTime() / 1000;
}

function renderList() {
  el.list.textContent = "";
  if (!recordingsList.length) {
    el.listStatus.textContent = "No recordings yet — play a match first (python main.py play).";
    el.listStatus.hidden = false;
    return;
  }
  el.listStatus.hidden = true;
  for (const item of recordingsList) {
    const li = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.className = "rec-item";
    button.dataset.name = item.name;
    if (item.error) button.classList.add("broken");
    button.title = item.name;

    const line = document.createElement("div");
    line.className = "rec-line";
    const when = document.createElement("span");
    when.className = "rec-when";
    when.textContent = dateText(startedAt(item));
    const len = document.createElement("span");
    len.className = "rec-len";
    len.textContent = item.error ? "—" : clock(Number(item.seconds) || 0, false);
    line.append(when, len);
    button.append(line);

    if (item.error) {
      const error = document.createElement("div");
      error.className = "rec-error";
      error.textContent = `⚠ ${item.error}`;
      button.append(error);
    } else {
      const meta = document.createElement("div");
      meta.className = "rec-meta";
      const score = document.createElement("span");
      score.className = "rec-score";
      const [l, r] = Array.isArray(item.score) ? item.score : [0, 0];
      score.textContent = `${l} – ${r}`;
      meta.append(score);
      const versions = versionsText(item.versions);
      if (versions) {
        const v = document.createElement("span");
        v.className = "rec-versions";
        v.title = "model versions the opponent played with";
        v.textContent = versions;
        meta.append(v);
      }
      if (item.truncated) {
        const badge = document.createElement("span");
        badge.className = "badge warn";
        badge.textContent = "truncated";
        badge.title = "the recording ends in a partial record (the game stopped abruptly)";
        meta.append(badge);
      }
      button.append(meta);
    }
    const name = document.createElement("div");
    name.className = "rec-name";
    name.textContent = item.name;
    button.append(name);

    button.addEventListener("click", () => {
      if (item.name !== rec.name || replayView.error) choose(item.name, true);
    });
    li.append(button);
    el.list.append(li);
  }
  markCurrent();
}

function markCurrent() {
  for (const button of el.list.querySelectorAll(".rec-item")) {
    button.setAttribute("aria-current", button.dataset.name === rec.name ? "true" : "false");
  }
}

function choose(name, push) {
  const url = new URL(location.href);
  url.searchParams.set("file", name);
  if (push) history.pushState({ file: name }, "", url);
  else history.replaceState({ file: name }, "", url);
  loadRecording(name);
}

window.addEventListener("popstate", () => {
  const name = new URL(location.href).searchParams.get("file");
  if (name && name !== rec.name) loadRecording(name);
});

// ---- loading a recording -----------------------------------------------------------------

async function loadRecording(name) {
  const token = ++rec.token;
  pause();
  rec.name = name;
  if (rec.chunks) rec.chunks.close();   // answers for the previous recording are dropped
  rec.chunks = null;
  rec.analysis = null;
  rec.pos = 0;
  rec.ticks = 0;
  rec.header = null;
  rec.versionChanges = [];
  Object.assign(replayView, {
    loaded: null, index: 0, ghostVisible: false, ticks: 0, error: null, analysis: "none", chunksFetched: 0,
  });
  markCurrent();
  showError(null);
  showWarning(null);
  setMessage("Loading…", name, "busy");
  el.recTitle.textContent = name;
  el.analysisStatus.textContent = "";
  updateControls();
  stripsDirty = dirty = true;

  let header;
  try {
    header = await api.header(name);
  } catch (err) {
    if (token === rec.token) failLoad(name, err);
    return;
  }
  if (token !== rec.token) return;
  rec.header = header;
  rec.params = { ...DEFAULT_COURT, ...(header.params || {}) };
  rec.tickRate = rec.params.tick_rate > 0 ? rec.params.tick_rate : 60;
  rec.ticks = Math.max(0, Math.floor(Number(header.ticks) || 0));
  rec.versionChanges = Array.isArray(header.version_changes) ? header.version_changes : [];
  rec.chunks = new ChunkCache({
    total: rec.ticks,
    fetchChunk: (start, count) => {
      replayView.chunksFetched++;
      return api.ticks(name, start, count);
    },
    onChange: () => { dirty = true; },
    position: () => rec.pos,
  });
  replayView.ticks = rec.ticks;
  el.scrub.max = String(Math.max(0, rec.ticks - 1));
  el.scrub.value = "0";
  showWarning(header.warning || null);
  renderTitle();
  resize();

  if (rec.ticks === 0) {
    replayView.loaded = name;
    setMessage("Empty recording", "This recording holds no ticks: the match stopped before it began.", "");
    updateControls();
    return;
  }
  try {
    await rec.chunks.ensure(0);
  } catch (err) {
    if (token === rec.token) failLoad(name, err);
    return;
  }
  if (token !== rec.token) return;
  setMessage(null);
  replayView.loaded = name;
  setIndex(0);
  updateControls();
  loadAnalysis();
}

function failLoad(name, err) {
  const message = err && err.message ? err.message : String(err);
  replayView.error = message;
  replayView.loaded = null;
  showError(message.includes(name) ? `Could not open it: ${message}` : `Could not open ${name}: ${message}`);
  setMessage("Can't show this recording", message, "bad");
  el.recTitle.textContent = name;
  updateControls();
  dirty = stripsDirty = true;
}

function renderTitle() {
  const h = rec.header && rec.header.header ? rec.header.header : {};
  el.recTitle.textContent = "";
  const who = document.createElement("strong");
  who.textContent = h.player ? String(h.player) : "player";
  el.recTitle.append(who);
  const parts = [];
  if (h.opponent) parts.push(` vs ${h.opponent}`);
  if (typeof h.started_at === "number") parts.push(` · ${dateText(h.started_at)}`);
  parts.push(` · ${rec.ticks.toLocaleString()} ticks (${clock(rec.ticks / rec.tickRate)})`);
  parts.push(` · ${rec.name}`);
  el.recTitle.append(parts.join(""));
  el.recTitle.title = rec.name;
}

function showError(text) {
  el.error.textContent = text || "";
  el.error.hidden = !text;
}

function showWarning(text) {
  el.warning.textContent = text ? `⚠ ${text}` : "";
  el.warning.hidden = !text;
}

function setMessage(title, sub = "", kind = "") {
  el.message.hidden = !title;
  el.message.className = kind;
  el.messageTitle.textContent = title || "";
  el.messageSub.textContent = sub || "";
}

// ---- analysis ----------------------------------------------------------------------------

async function loadAnalysis() {
  if (!rec.name || !replayView.loaded) return;
  const token = ++rec.analysisToken;
  const loadToken = rec.token;
  const model = el.model.value;
  rec.analysis = null;
  replayView.analysis = "loading";
  el.analysisStatus.innerHTML = "";
  const spin = document.createElement("span");
  spin.className = "spinner";
  const label = el.model.selectedOptions.length ? el.model.selectedOptions[0].textContent : "your mirror";
  el.analysisStatus.append(spin, `Comparing your play with ${label}… (a long recording takes a while)`);
  stripsDirty = dirty = true;
  let answer;
  try {
    answer = await api.analysis(rec.name, model);
  } catch (err) {
    if (token !== rec.analysisToken || loadToken !== rec.token) return;
    replayView.analysis = "error";
    el.analysisStatus.textContent = "";
    const bad = document.createElement("span");
    bad.className = "bad";
    bad.textContent = `Analysis failed: ${err.message}`;
    el.analysisStatus.append(bad);
    stripsDirty = dirty = true;
    return;
  }
  if (token !== rec.analysisToken || loadToken !== rec.token) return;
  rec.analysis = answer;
  replayView.analysis = "ready";
  renderAnalysisStatus();
  stripsDirty = dirty = true;
}

function renderAnalysisStatus() {
  const a = rec.analysis;
  el.analysisStatus.textContent = "";
  if (!a) return;
  if (!a.model) {
    const warn = document.createElement("span");
    warn.className = "warn";
    warn.textContent = "No mirror model yet — the ghost paddle and disagreements need one.";
    el.analysisStatus.append(warn);
    return;
  }
  const m = a.model;
  el.analysisStatus.append(`${modelLabel(m)} · plays like you `);
  const agree = document.createElement("strong");
  agree.textContent = percent(a.agreement);
  el.analysisStatus.append(agree, " · when the ball comes at you ");
  const approach = document.createElement("strong");
  approach.textContent = percent(a.approach_agreement);
  el.analysisStatus.append(approach);
}

function modelLabel(m) {
  const name = m.name === "current" ? "your mirror"
    : m.name === "given" ? "the given model"
    : m.name.startsWith("shared/") ? `${m.name.slice(7)} (shared)` : m.name;
  const version = m.version != null ? ` v${m.version}` : "";
  return `${name}${version}${m.architecture ? ` · ${m.architecture}` : ""}`;
}

async function loadModels() {
  let answer;
  try {
    answer = await api.models();
  } catch {
    return;                     // the chooser keeps its one entry: the server's default
  }
  const models = (Array.isArray(answer.models) ? answer.models : [])
    .filter((m) => m && typeof m.name === "string");
  if (!models.length) {
    el.model.options[0].textContent = "your mirror (none yet)";
    return;
  }
  // The server's default is the first model it lists: that one stands for "" (the default).
  const chosen = el.model.value;
  el.model.textContent = "";
  models.forEach((m, i) => {
    const option = document.createElement("option");
    option.value = i === 0 ? "" : m.name;
    option.textContent = modelLabel(m);
    el.model.append(option);
  });
  el.model.value = [...el.model.options].some((o) => o.value === chosen) ? chosen : "";
}

el.model.addEventListener("change", () => {
  el.model.blur();
  loadAnalysis();
});

// ---- playback ----------------------------------------------------------------------------

function canPlay() { return !!replayView.loaded && rec.ticks > 0 && !replayView.error; }

function setIndex(index, { keepFraction = false } = {}) {
  if (!rec.ticks) return;
  const clamped = Math.min(rec.ticks - 1, Math.max(0, index));
  rec.pos = keepFraction ? clamped : Math.floor(clamped);
  const i = Math.floor(rec.pos);
  if (i !== replayView.index) replayView.index = i;
  if (rec.chunks) {
    rec.chunks.columns(i);                            // start fetching if it is not here
    if (i + 1 < rec.ticks) rec.chunks.columns(i + 1);
  }
  dirty = true;
}

function seek(index) {
  setIndex(Math.round(index));
}

function step(delta) {
  if (!canPlay()) return;
  pause();
  setIndex(Math.floor(rec.pos) + delta);
}

function play() {
  if (!canPlay()) return;
  if (Math.floor(rec.pos) >= rec.ticks - 1) setIndex(0);   // at the end: from the start again
  replayView.playing = true;
  lastFrameAt = null;
  updateControls();
  dirty = true;
}

function pause() {
  if (!replayView.playing) return;
  replayView.playing = false;
  rec.pos = Math.floor(rec.pos);
  updateControls();
  dirty = true;
}

function togglePlay() {
  if (replayView.playing) pause(); else play();
}

function setSpeed(value) {
  const speed = SPEEDS.includes(value) ? value : 1;
  replayView.speed = speed;
  el.speed.value = String(speed);
}

function updateControls() {
  const ok = canPlay();
  el.play.disabled = el.stepBack.disabled = el.stepFwd.disabled = el.scrub.disabled = !ok;
  el.play.classList.toggle("playing", replayView.playing);
  el.play.setAttribute("aria-label", replayView.playing ? "Pause" : "Play");
}

let lastFrameAt = null;

/** Advance the playback position by the time since the last animation frame. */
function advance(now) {
  if (!replayView.playing || !rec.chunks) { lastFrameAt = now; return; }
  const dt = lastFrameAt === null ? 0 : Math.min(250, now - lastFrameAt);
  lastFrameAt = now;
  const chunks = rec.chunks;
  let next = rec.pos + (dt / 1000) * rec.tickRate * replayView.speed;
  let ended = false;
  if (next >= rec.ticks - 1) { next = rec.ticks - 1; ended = true; }
  // Never run ahead of the records that are here: wait for the chunk (buffering).
  const from = Math.floor(rec.pos), to = Math.floor(next);
  for (let c = chunks.chunkOf(from); c <= chunks.chunkOf(to); c++) {
    if (!chunks.ready.has(c)) {
      chunks.ensure(c);
      next = Math.max(rec.pos, c * CHUNK - 1);
      ended = false;
      break;
    }
  }
  // Prefetch: past the middle of a chunk, ask for the next one.
  const here = Math.floor(next);
  if (here % CHUNK >= CHUNK / 2) chunks.ensure(chunks.chunkOf(here) + 1);
  setIndex(next, { keepFraction: true });
  if (ended) pause();
}

// ---- drawing: the court ------------------------------------------------------------------

let cssSize = { w: 0, h: 0 };
let pixelRatio = 0;

/** Size the court to the largest rectangle of the court's aspect ratio in #court-area. */
function resize() {
  const aspect = rec.params.court_width / rec.params.court_height;
  const dpr = window.devicePixelRatio || 1;
  const size = fitCourt(el.area.clientWidth, el.area.clientHeight, aspect);
  if (size) {
    const { w, h } = size;
    if (w !== cssSize.w || h !== cssSize.h || dpr !== pixelRatio) {
      cssSize = { w, h };
      sizeCourt(el.box, el.canvas, w, h, dpr);
    }
  }
  for (const strip of [el.stripDisagree, el.stripRelevance, el.stripVersions]) {
    const w = Math.round(strip.clientWidth * dpr), h = Math.round(strip.clientHeight * dpr);
    if (w > 0 && h > 0 && (strip.width !== w || strip.height !== h)) {
      strip.width = w;
      strip.height = h;
      stripsDirty = true;
    }
  }
  pixelRatio = dpr;
  dirty = true;
}

const resizeObserver = new ResizeObserver(resize);
resizeObserver.observe(el.area);
resizeObserver.observe(el.stripDisagree);
window.addEventListener("resize", resize);

/** The ghost paddle's colours (the court's are COURT_COLORS in court.js, the strips' in replay_strips.js). */
const GHOST_COLORS = {
  agrees: PALETTE.accent,
  differs: PALETTE.orange,       // where the mirror would have moved differently
};

/** The positions to draw at the playback position: interpolated between records when playing. */
function currentPose() {
  const chunks = rec.chunks;
  if (!chunks || !rec.ticks) return null;
  const i = Math.floor(rec.pos);
  const row = chunks.row(i);
  if (!row) return null;
  const pose = { row, ball_x: row.ball_x, ball_y: row.ball_y, left_y: row.left_y, right_y: row.right_y, a: 0 };
  const a = rec.pos - i;
  if (a > 0 && replayView.playing) {
    const next = chunks.row(i + 1);
    if (next && next.score_left === row.score_left && next.score_right === row.score_right &&
        Math.hypot(next.ball_x - row.ball_x, next.ball_y - row.ball_y) < SNAP_DISTANCE) {
      pose.ball_x = lerp(row.ball_x, next.ball_x, a);
      pose.ball_y = lerp(row.ball_y, next.ball_y, a);
      pose.left_y = lerp(row.left_y, next.left_y, a);
      pose.right_y = lerp(row.right_y, next.right_y, a);
      pose.a = a;
    }
  }
  return pose;
}

function ghostAt(pose) {
  const a = rec.analysis;
  if (!a || !Array.isArray(a.ghost_y)) return null;
  const i = pose.row.index;
  const g = a.ghost_y[i];
  if (typeof g !== "number" || !isFinite(g)) return null;
  const g2 = a.ghost_y[i + 1];
  return pose.a > 0 && typeof g2 === "number" && isFinite(g2) ? lerp(g, g2, pose.a) : g;
}

function draw() {
  if (pixelRatio !== (window.devicePixelRatio || 1)) resize();
  const p = rec.params;
  const court = {
    width: p.court_width, height: p.court_height, paddle_inset: p.paddle_inset,
    paddle_half_height: p.paddle_half_height, ball_radius: p.ball_radius,
  };
  const drawn = drawCourt(ctx, court);
  if (!drawn) return;
  const { px } = drawn;

  const pose = replayView.loaded ? currentPose() : null;
  drawScore(ctx, court, pose ? [pose.row.score_left, pose.row.score_right] : [0, 0]);
  const waiting = !!(replayView.loaded && !pose && rec.ticks);
  el.buffering.hidden = !waiting;
  if (waiting) {
    const failed = rec.chunks && rec.chunks.failed;
    setText(el.buffering, failed ? `⚠ records not loaded: ${failed.message} — retrying…` : "loading…");
    el.buffering.title = failed ? failed.message : "";
  }
  let ghostDrawn = false;
  if (pose) {
    const inset = court.paddle_inset;
    const thick = inset * 0.6;
    const half = court.paddle_half_height;

    // the mirror's ghost: what the mirror would do in your place, just inside your paddle
    const ghostY = el.ghost.checked ? ghostAt(pose) : null;
    if (ghostY !== null) {
      const differs = el.disagree.checked && Array.isArray(rec.analysis.disagree) &&
        rec.analysis.disagree[pose.row.index] === 1;
      const color = differs ? GHOST_COLORS.differs : GHOST_COLORS.agrees;
      const x = inset + thick * 0.3, w = thick * 0.8;
      ctx.fillStyle = withAlpha(color, 0.28);
      ctx.fillRect(x, ghostY - half, w, 2 * half);
      ctx.strokeStyle = withAlpha(color, 0.9);
      ctx.lineWidth = 1.5 * px;
      ctx.setLineDash([5 * px, 4 * px]);
      ctx.strokeRect(x + 0.75 * px, ghostY - half + 0.75 * px, w - 1.5 * px, 2 * half - 1.5 * px);
      ctx.setLineDash([]);
      ghostDrawn = true;
    }

    drawPaddles(ctx, court, pose.left_y, pose.right_y);

    // ball (dimmed, pulsing with the ticks, while it waits for the serve)
    let alpha = 1;
    if (pose.row.serving) alpha = 0.55 + 0.45 * Math.cos(pose.row.tick / 7.8);
    drawBall(ctx, court, pose.ball_x, pose.ball_y, alpha);
  }
  replayView.ghostVisible = ghostDrawn;
  updateReadout(pose);
}

let shownDone = "";   // the scrub bar's --done, as last set

function updateReadout(pose) {
  const i = replayView.index;
  const total = rec.ticks;
  setText(el.time, total ? `${clock(i / rec.tickRate)} / ${clock(Math.max(0, total - 1) / rec.tickRate)}` : "0:00.0 / 0:00.0");
  setText(el.tick, pose ? `tick ${pose.row.tick.toLocaleString()} · #${(i + 1).toLocaleString()}/${total.toLocaleString()}` : "tick —");
  setText(el.score, pose ? `You ${pose.row.score_left} – ${pose.row.score_right} Mirror` +
    (pose.row.model_version ? ` (v${pose.row.model_version})` : "") : "You – Mirror");
  if (!scrubbing && el.scrub.value !== String(i)) el.scrub.value = String(i);
  const done = total > 1 ? `${((i / (total - 1)) * 100).toFixed(2)}%` : "0%";
  if (shownDone !== done) {
    shownDone = done;
    el.scrub.style.setProperty("--done", done);
  }
}

// ---- drawing: the timeline strips --------------------------------------------------------

let stripImages = { disagree: null, relevance: null, versions: null };

/** Horizontal inset of the strips (device px): half the scrub thumb, so x lines up with it. */
function stripInset() {
  const thumb = parseFloat(getComputedStyle(document.documentElement).getPropertyValue("--thumb")) || 14;
  return (thumb / 2) * (window.devicePixelRatio || 1);
}

function buildStrips() {
  stripImages = buildStripImages(
    { disagree: el.stripDisagree, relevance: el.stripRelevance, versions: el.stripVersions },
    {
      ready: !!replayView.loaded && rec.ticks > 0,
      ticks: rec.ticks,
      analysis: rec.analysis,
      analysisState: replayView.analysis,
      versionChanges: rec.versionChanges,
      inset: stripInset(),
      dpr: window.devicePixelRatio || 1,
    });
  stripsDirty = false;
}

function drawStrips() {
  if (stripsDirty) buildStrips();
  const where = {
    cursor: replayView.loaded && rec.ticks ? replayView.index : null,
    ticks: rec.ticks,
    inset: stripInset(),
    dpr: window.devicePixelRatio || 1,
  };
  const switches = [
    [el.stripDisagree, el.labelDisagree, stripImages.disagree, el.disagree.checked],
    [el.stripRelevance, el.labelRelevance, stripImages.relevance, el.relevance.checked],
    [el.stripVersions, el.labelVersions, stripImages.versions, el.versions.checked],
  ];
  for (const [strip, label, image, on] of switches) {
    strip.classList.toggle("off", !on);
    label.classList.toggle("off", !on);
    paintStrip(strip, image, { ...where, on });
  }
}

// ---- main loop ---------------------------------------------------------------------------

let lastDrawnIndex = -1;

function loop(now) {
  advance(now);
  if (dirty || replayView.playing) {
    dirty = false;
    draw();
    if (stripsDirty || lastDrawnIndex !== replayView.index || stripsNeedCursor) {
      drawStrips();
      lastDrawnIndex = replayView.index;
      stripsNeedCursor = false;
    }
  }
  requestAnimationFrame(loop);
}
let stripsNeedCursor = true;

function redrawAll() {
  stripsNeedCursor = true;
  dirty = true;
}

// ---- input -------------------------------------------------------------------------------

/** Buttons keep the focus off themselves (a mouse click), so keys keep reaching the page. */
for (const button of [el.stepBack, el.play, el.stepFwd]) {
  button.addEventListener("pointerdown", (event) => event.preventDefault());
}
el.play.addEventListener("click", togglePlay);
el.stepBack.addEventListener("click", () => step(-1));
el.stepFwd.addEventListener("click", () => step(1));

el.speed.addEventListener("change", () => {
  setSpeed(Number(el.speed.value));
  el.speed.blur();
});

let scrubbing = false;
el.scrub.addEventListener("pointerdown", () => { scrubbing = true; });
for (const type of ["pointerup", "pointercancel", "change"]) {
  el.scrub.addEventListener(type, () => { scrubbing = false; });
}
el.scrub.addEventListener("input", () => {
  if (!canPlay()) return;
  seek(Number(el.scrub.value));
});

// A click or drag on a strip jumps there.
function stripSeek(event) {
  if (!canPlay()) return;
  const rect = event.currentTarget.getBoundingClientRect();
  const cssInset = stripInset() / (window.devicePixelRatio || 1);
  seek(stripFraction(event.clientX, rect, cssInset) * (rec.ticks - 1));
}
for (const strip of [el.stripDisagree, el.stripRelevance, el.stripVersions]) {
  strip.addEventListener("pointerdown", (event) => {
    event.preventDefault();
    strip.setPointerCapture(event.pointerId);
    stripSeek(event);
  });
  strip.addEventListener("pointermove", (event) => {
    if (strip.hasPointerCapture(event.pointerId)) stripSeek(event);
  });
}

// Overlay switches (remembered in this browser).
const SWITCHES = { ghost: el.ghost, disagree: el.disagree, relevance: el.relevance, versions: el.versions };
try {
  const saved = JSON.parse(localStorage.getItem(STORAGE_KEY) || "{}");
  for (const [key, box] of Object.entries(SWITCHES)) if (typeof saved[key] === "boolean") box.checked = saved[key];
} catch { /* nothing saved, or storage is off */ }
for (const [, box] of Object.entries(SWITCHES)) {
  box.closest("label").addEventListener("pointerdown", (event) => {
    if (event.target !== box) event.preventDefault();   // a click toggles, focus stays off it
  });
  box.addEventListener("change", () => {
    const state = {};
    for (const [key, b] of Object.entries(SWITCHES)) state[key] = b.checked;
    try { localStorage.setItem(STORAGE_KEY, JSON.stringify(state)); } catch { /* storage off */ }
    if (box.matches(":focus") && !box.matches(":focus-visible")) box.blur();
    redrawAll();
  });
}

/** Keys typed into a field (the selects) are the field's; everything else drives playback. */
window.addEventListener("keydown", (event) => {
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  const t = event.target;
  const tag = t instanceof HTMLElement ? t.tagName : "";
  if (tag === "SELECT" || tag === "TEXTAREA" || (t instanceof HTMLElement && t.isContentEditable)) return;
  const onControl = tag === "BUTTON" || tag === "A" || (tag === "INPUT" && t.type !== "range");
  const key = event.key;
  if (key === " " || event.code === "Space") {
    if (onControl) return;                                // Space presses the focused control
    event.preventDefault();
    if (!event.repeat) togglePlay();
  } else if (key === "ArrowLeft" || key === "ArrowRight" || key === "," || key === "." ||
             key === "<" || key === ">") {
    event.preventDefault();
    const back = key === "ArrowLeft" || key === "," || key === "<";
    step((back ? -1 : 1) * (event.shiftKey && key.startsWith("Arrow") ? Math.round(rec.tickRate) : 1));
  } else if (key === "Home" || key === "End") {
    if (!canPlay()) return;
    event.preventDefault();
    pause();
    setIndex(key === "Home" ? 0 : rec.ticks - 1);
  }
});

// ---- start -------------------------------------------------------------------------------

async function start() {
  setSpeed(1);
  updateControls();
  resize();
  requestAnimationFrame(loop);
  loadModels();
  const wanted = new URL(location.href).searchParams.get("file");
  const focus = await loadList();
  const first = wanted || focus || (recordingsList.find((r) => !r.error) || {}).name;
  if (first) {
    choose(first, false);
  } else if (recordingsList.length || focus === null) {
    setMessage("No recording chosen", recordingsList.length ? "Pick one from the list." : "Nothing recorded yet.", "");
  }
}

start();
