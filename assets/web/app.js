/*
 * Mirror Pong — the browser client: the game page's entry (index.html).
 *
 * What lives here, top to bottom:
 *   - state       the latest hello and frame, and what the tests read (window.mirrorPong)
 *   - connection  one WebSocket to /ws, reconnecting forever (1 s, backing off to 2 s)
 *   - handlers    a table of incoming message handlers keyed by message "type"; to handle
 *                 a new message, add an entry (or call window.mirrorPong.on(type, fn))
 *   - interpolation  the drawn positions glide from where they were drawn to each new frame
 *                 over one tick, so the picture runs about one server tick behind
 *   - drawing     the canvas (sized to the court's aspect ratio, crisp on HiDPI), the HUD and
 *                 the overlay on the court (match over, paused, or the server away: it says
 *                 the page reconnects by itself)
 *   - input       keyboard (W/S, arrows, Space), pointer/touch on the court, pause button; the
 *                 how-to line speaks of keys, or of dragging on a touch screen
 *
 * Protocol (see game/server.py): server -> client "hello" then one "frame" per tick;
 * client -> server "input" {command}, "pointer" {y}, "pause" {paused}, "new_match";
 * with the learner on (learner/live.py CONTROL_SCHEMAS) also "learning" {action:
 * pause|resume|reset}, "architecture" {name: mlp|transformer}, "sampler_weights"
 * {weights: {field: number >= 0}} and "sampler_adapt" {on: boolean}.
 * The server rejects extra fields, so messages are sent in exactly those shapes.
 * The court itself (palette, score digits, paddles, ball, sizing) is drawn by ./court.js,
 * shared with the replay viewer, as are the helpers of ./shared.js. The learning panel
 * (#learning: the learner's report, its chart and controls) is ./learning_panel.js; this
 * file feeds it "hello" and "frame" and lends it the socket. The after-match card
 * (#match-card, "you vs your mirror") is ./match_card.js, fed the same reports and frames.
 */

import { drawBall, drawCourt, drawPaddles, drawScore, fitCourt, lerp, sizeCourt } from "./court.js";
import { startLearningPanel } from "./learning_panel.js";
import { startMatchCard } from "./match_card.js";
import { $, SNAP_DISTANCE } from "./shared.js";

const RETRY_FIRST_MS = 1000;
const RETRY_MAX_MS = 2000;
const SILENCE_LIMIT_MS = 5000;    // an open socket with no message this long is given up on
const FLASH_MS = 600;

// ---- state -------------------------------------------------------------------------------

const state = {
  hello: null,
  court: { width: 1.6, height: 1.0, paddle_inset: 0.04, paddle_half_height: 0.09, ball_radius: 0.012 },
  tickMs: 1000 / 60,
  pointsToWin: 11,
  frame: null,
};

const handlers = {};

/** What automated tests (and the console) can read; updated live. */
const mirrorPong = {
  lastFrame: null,
  connected: false,
  hello: null,
  drawn: null,        // the interpolated positions last drawn (ball, left_y, right_y)
  learning: null,     // the latest frame.learning (the learner's report), null until one
  chartLabels: () => learningPanel.chartLabels(),   // the chart's mark labels as last drawn
  handlers,
  on(type, fn) { handlers[type] = fn; },
  send,
};
window.mirrorPong = mirrorPong;

const el = {
  canvas: $("court"),
  box: $("court-box"),
  stage: $("stage"),
  column: $("column"),
  hud: $("hud"),
  statusbar: $("statusbar"),
  overlay: $("overlay"),
  overlayTitle: $("overlay-title"),
  overlaySub: $("overlay-sub"),
  status: $("status"),
  score: $("score"),
  you: $("you"),
  opponent: $("opponent"),
  help: $("help"),
  recording: $("recording"),
  pauseBtn: $("pause-btn"),
  tick: $("tick"),
};
const ctx = el.canvas.getContext("2d");

const matchCard = startMatchCard();
const learningPanel = startLearningPanel({
  send,
  isConnected: () => mirrorPong.connected,
  onReport: (report) => {
    mirrorPong.learning = report;
    matchCard.onReport(report, state.frame);
  },
  releaseInput: releaseEverything,
});

// ---- connection --------------------------------------------------------------------------

let socket = null;
let retryMs = RETRY_FIRST_MS;
let retryTimer = null;
let lastMessageAt = 0;
let attempts = 0;
let everConnected = false;

function socketUrl() {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}/ws`;
}

function connect() {
  retryTimer = null;
  setStatus(attempts++ === 0 ? "connecting" : "reconnecting");
  let ws;
  try {
    ws = new WebSocket(socketUrl());
  } catch (err) {
    console.warn("WebSocket failed to start:", err);
    scheduleReconnect();
    return;
  }
  socket = ws;
  ws.onopen = () => {
    if (socket !== ws) return;
    retryMs = RETRY_FIRST_MS;
    lastMessageAt = performance.now();
    mirrorPong.connected = everConnected = true;
    setStatus("connected");
    resyncInput();
  };
  ws.onmessage = (event) => {
    if (socket !== ws) return;
    lastMessageAt = performance.now();
    let message;
    try {
      message = JSON.parse(event.data);
    } catch {
      console.warn("ignored a message that is not JSON");
      return;
    }
    const handler = message && handlers[message.type];
    if (handler) handler(message);
  };
  ws.onclose = () => {
    if (socket !== ws) return;
    socket = null;
    mirrorPong.connected = false;
    setStatus("disconnected");
    scheduleReconnect();
  };
  // onerror is always followed by onclose, which does the work.
}

function scheduleReconnect() {
  if (retryTimer !== null) return;
  retryTimer = setTimeout(connect, retryMs);
  retryMs = Math.min(RETRY_MAX_MS, retryMs * 1.5);
}

function send(message) {
  if (socket && socket.readyState === WebSocket.OPEN) {
    socket.send(JSON.stringify(message));
    return true;
  }
  return false;
}

// A socket that silently stops delivering (the server sends every tick, paused or not).
setInterval(() => {
  if (socket && socket.readyState === WebSocket.OPEN &&
      performance.now() - lastMessageAt > SILENCE_LIMIT_MS) {
    console.warn("no message for a while; reconnecting");
    socket.close();
    // A stuck close never fires onclose quickly, so let go of it now.
    const stale = socket;
    socket = null;
    stale.onclose = stale.onmessage = stale.onopen = null;
    mirrorPong.connected = false;
    setStatus("disconnected");
    scheduleReconnect();
  }
}, 1000);

function setStatus(kind) {
  const text = {
    connecting: "connecting…",
    connected: "connected",
    disconnected: "disconnected — reconnecting…",
    reconnecting: "disconnected — reconnecting…",
  }[kind];
  el.status.textContent = text;
  el.status.className = kind === "reconnecting" ? "disconnected" : kind;
  document.body.classList.toggle("offline", kind !== "connected");
  learningPanel.onConnection(kind === "connected");   // dimmed, "from before", while lost
  updateOverlay();
  updatePauseButton();
}

// ---- handlers ----------------------------------------------------------------------------

handlers.hello = (hello) => {
  state.hello = mirrorPong.hello = hello;
  if (hello.court) state.court = { ...state.court, ...hello.court };
  if (hello.tick_rate > 0) state.tickMs = 1000 / hello.tick_rate;
  if (hello.points_to_win > 0) state.pointsToWin = hello.points_to_win;
  el.you.textContent = hello.player ? `You (${hello.player})` : "You";
  updateHelp();
  interp.reset();                      // a fresh connection starts from its first frame
  learningPanel.onHello();
  matchCard.onHello();
  resize();
};

handlers.frame = (frame) => {
  const previous = state.frame;
  state.frame = mirrorPong.lastFrame = frame;
  interp.push(frame, previous);
  noteEffects(frame, previous);
  matchCard.onFrame(frame, previous);  // a new match puts the last one's card away
  learningPanel.onFrame(frame);        // frame.learning (about one frame in 30) feeds the panel
  updateHud(frame, previous);          // after the panel, which numbers the mirrors
  // Further keys are for later handlers/panels; unknown keys are ignored.
};

// ---- interpolation -----------------------------------------------------------------------

/*
 * Each new frame becomes the target; the start is whatever was on screen when it arrived
 * (normally the previous frame, reached one tick after it arrived). Positions glide from
 * start to target over one tick, so motion is continuous at any display rate and a late or
 * bunched frame never makes anything jump back. A ball jump over SNAP_DISTANCE (a point
 * scored, the serve reset) or a new match snaps instead.
 */
const interp = {
  from: null,
  to: null,
  arrived: 0,

  reset() { this.from = this.to = null; },

  push(frame, previous) {
    const now = performance.now();
    const target = pose(frame);
    const restart = !this.to || !previous || frame.tick < previous.tick ||
      (frame.events && frame.events.includes("miss"));
    if (restart) {
      this.from = target;
    } else {
      this.from = this.sample(now);
      const dx = target.ball[0] - this.from.ball[0];
      const dy = target.ball[1] - this.from.ball[1];
      if (Math.hypot(dx, dy) > SNAP_DISTANCE) this.from = { ...this.from, ball: target.ball };
    }
    this.to = target;
    this.arrived = now;
  },

  sample(now) {
    if (!this.to) return null;
    const a = Math.min(1, Math.max(0, (now - this.arrived) / state.tickMs));
    const f = this.from, t = this.to;
    return {
      ball: [lerp(f.ball[0], t.ball[0], a), lerp(f.ball[1], t.ball[1], a)],
      left_y: lerp(f.left_y, t.left_y, a),
      right_y: lerp(f.right_y, t.right_y, a),
    };
  },
};

function pose(frame) {
  return { ball: [frame.ball[0], frame.ball[1]], left_y: frame.left_y, right_y: frame.right_y };
}

// ---- effects (brief flashes on hits and points) ------------------------------------------

const flash = { left: 0, right: 0, scoreLeft: 0, scoreRight: 0 };

function noteEffects(frame, previous) {
  const now = performance.now();
  if (frame.events && frame.events.includes("hit")) {
    if (frame.ball[0] < state.court.width / 2) flash.left = now; else flash.right = now;
  }
  // Points come from the score, not the events: a slow client may skip a frame's events.
  if (previous && frame.tick >= previous.tick) {
    if (frame.score[0] > previous.score[0]) flash.scoreLeft = now;
    if (frame.score[1] > previous.score[1]) flash.scoreRight = now;
  }
}

function flashLevel(since, now) {
  const t = (now - since) / FLASH_MS;
  return t >= 0 && t < 1 ? 1 - t : 0;
}

// ---- HUD ---------------------------------------------------------------------------------

function opponentText(opponent) {
  if (!opponent) return "Opponent: —";
  if (opponent.label === "scripted") {
    // Learning on: the mirror takes over once it plays like the player. Off (or no learner,
    // --no-learn): the scripted opponent stays.
    const learning = mirrorPong.learning;
    return learning && learning.learning && learning.state !== "stopped"
      ? "Opponent: scripted, until your mirror is ready" : "Opponent: scripted";
  }
  const number = learningPanel.mirrorNumber(opponent);   // the server's: over all sessions
  return `Opponent: ${opponent.label}${number ? ` v${number}` : ""}`;
}

function updateHud(frame, previous) {
  // "resumed" in a word: the status bar keeps to one line beside the court.
  el.tick.textContent = `tick ${frame.tick}${frame.resumed ? " · resumed" : ""}`;
  const tickTitle = frame.resumed ? "This match went on after a restart, from its recording" : "";
  if (el.tick.title !== tickTitle) el.tick.title = tickTitle;
  const oppText = opponentText(frame.opponent);
  if (el.opponent.textContent !== oppText) el.opponent.textContent = oppText;
  const scoreText = `You ${frame.score[0]} – ${frame.score[1]} Mirror`;
  if (el.score.textContent !== scoreText) el.score.textContent = scoreText;

  const warning = typeof frame.recording === "string" && frame.recording ? `⚠ ${frame.recording}` : "";
  if (el.recording.textContent !== warning) {
    el.recording.textContent = warning;
    el.recording.hidden = !warning;
  }
  if (!previous || previous.paused !== frame.paused || previous.winner !== frame.winner ||
      previous.score[0] !== frame.score[0] || previous.score[1] !== frame.score[1]) {
    updateOverlay();
    updatePauseButton();
  }
}

function updateOverlay() {
  const frame = state.frame;
  let title = "", sub = "", kind = "";
  if (!mirrorPong.connected && (everConnected || attempts > 1)) {
    // The game lives in the server: while it is away nothing moves, so say why, and that
    // this page comes back by itself (connect() keeps trying every RETRY_MAX_MS or sooner).
    title = everConnected ? "Connection lost" : "Cannot reach the game";
    kind = "offline";
    sub = "The game server is not answering (stopped, restarted or out of reach).\n" +
      `This page reconnects by itself as soon as it is back (trying every ${RETRY_MAX_MS / 1000} s).`;
  } else if (frame && frame.winner) {
    const youWon = frame.winner < 0;
    title = youWon ? "You win!" : "Mirror wins";
    kind = youWon ? "win" : "lose";
    sub = `${frame.score[0]} – ${frame.score[1]}\nPress Space or tap to play again`;
  } else if (frame && frame.paused) {
    const resumed = frame.resumed && frame.tick === (state.hello?.resumed?.tick ?? -1);
    title = resumed
      ? `Match resumed at ${frame.score[0]} – ${frame.score[1]}`
      : "Paused — press Space";
    sub = resumed ? "Press Space or tap the court to play on" : "or tap the court to resume";
  }
  el.overlay.hidden = !title;
  el.overlay.className = kind;
  el.overlayTitle.textContent = title;
  el.overlaySub.textContent = sub;
}

function updatePauseButton() {
  const frame = state.frame;
  el.pauseBtn.disabled = !mirrorPong.connected || !frame;
  el.pauseBtn.textContent = frame && frame.winner ? "New match" : frame && frame.paused ? "Resume" : "Pause";
}

// ---- drawing -----------------------------------------------------------------------------

let cssSize = { w: 0, h: 0 };
let pixelRatio = 0;

/**
 * Size the court to the largest rectangle of the court's aspect ratio that fits the stage
 * once the HUD line and the status bar have their room; the column takes the court's width.
 * (The status bar may wrap at a new width, so this settles in at most a couple of passes.)
 */
function resize() {
  const aspect = state.court.width / state.court.height;
  const dpr = window.devicePixelRatio || 1;
  for (let pass = 0; pass < 3; pass++) {
    const gaps = 2 * (parseFloat(getComputedStyle(el.column).rowGap) || 0);
    const availW = el.stage.clientWidth;
    const availH = el.stage.clientHeight - el.hud.offsetHeight - el.statusbar.offsetHeight - gaps;
    const size = fitCourt(availW, availH, aspect);
    if (!size) return;
    const { w, h } = size;
    if (w === cssSize.w && h === cssSize.h && dpr === pixelRatio) return;
    cssSize = { w, h };
    pixelRatio = dpr;
    el.column.style.width = `${w}px`;
    sizeCourt(el.box, el.canvas, w, h, dpr);
  }
}

const resizeObserver = new ResizeObserver(resize);
resizeObserver.observe(el.stage);
resizeObserver.observe(el.hud);        // may wrap on a narrow screen
resizeObserver.observe(el.statusbar);
window.addEventListener("resize", resize);

function draw(now) {
  if (pixelRatio !== (window.devicePixelRatio || 1)) resize();
  const court = state.court;
  if (!drawCourt(ctx, court)) return;

  const frame = state.frame;
  drawScore(ctx, court, frame ? frame.score : [0, 0],
    { glow: [flashLevel(flash.scoreLeft, now), flashLevel(flash.scoreRight, now)] });
  const pos = interp.sample(now);
  mirrorPong.drawn = pos;
  if (!pos) return;

  drawPaddles(ctx, court, pos.left_y, pos.right_y, [flashLevel(flash.left, now), flashLevel(flash.right, now)]);

  // ball (blinks gently while it waits for the serve)
  let alpha = 1;
  if (frame && frame.serving && !frame.paused && !frame.winner) alpha = 0.55 + 0.45 * Math.cos(now / 130);
  drawBall(ctx, court, pos.ball[0], pos.ball[1], alpha);
}

// ---- input: the how-to line -----------------------------------------------------------------

/** A touch screen (the primary pointer is a finger) has no keys to talk about. */
const touchScreen = window.matchMedia("(pointer: coarse)");

function updateHelp() {
  const win = `first to ${state.pointsToWin} wins`;
  el.help.textContent = touchScreen.matches
    ? `Drag on the court to move your paddle (left); tap Pause to pause; ${win}`
    : `W/S or ↑/↓ to move, or drag on the court; Space to pause; ${win}`;
}

touchScreen.addEventListener("change", updateHelp);

// ---- input: keyboard ---------------------------------------------------------------------

const KEY_DIRECTIONS = { KeyW: -1, ArrowUp: -1, KeyS: 1, ArrowDown: 1 };
const KEY_FALLBACK = { w: "KeyW", W: "KeyW", s: "KeyS", S: "KeyS", ArrowUp: "ArrowUp", ArrowDown: "ArrowDown" };
const heldKeys = [];                 // codes of movement keys held, oldest first
let sentCommand = 0;

/**
 * Keys aimed at a control (a slider, radio or button of the learning panel: arrows move a
 * slider, Space presses a button) are not game keys. The panel's controls give focus back
 * after a mouse/touch click, so the keys reach the paddle again.
 */
function typingInField(event) {
  const t = event.target;
  return t instanceof HTMLElement &&
    (t.isContentEditable || ["INPUT", "TEXTAREA", "SELECT", "BUTTON", "SUMMARY"].includes(t.tagName));
}

function keyCode(event) {
  return KEY_DIRECTIONS[event.code] !== undefined ? event.code : KEY_FALLBACK[event.key];
}

/** The most recently pressed key still held decides (so both held = the newer one). */
function currentCommand() {
  return heldKeys.length ? KEY_DIRECTIONS[heldKeys[heldKeys.length - 1]] : 0;
}

function sendCommand(force = false) {
  const command = currentCommand();
  if (command === sentCommand && !force) return;
  if (send({ type: "input", command })) sentCommand = command;
}

window.addEventListener("keydown", (event) => {
  if (event.ctrlKey || event.metaKey || event.altKey || typingInField(event)) return;
  if (event.code === "Space" || event.key === " ") {
    event.preventDefault();
    if (!event.repeat) togglePause();
    return;
  }
  const code = keyCode(event);
  if (!code) return;
  event.preventDefault();
  if (!heldKeys.includes(code)) heldKeys.push(code);
  sendCommand();
});

window.addEventListener("keyup", (event) => {
  const code = keyCode(event);
  // A held movement key is always let go, even if focus moved to a control meanwhile.
  if (typingInField(event) && !(code && heldKeys.includes(code))) return;
  if (event.code === "Space" || event.key === " ") { event.preventDefault(); return; }
  if (!code) return;
  event.preventDefault();
  const i = heldKeys.indexOf(code);
  if (i >= 0) heldKeys.splice(i, 1);
  sendCommand();
});

function releaseEverything() {
  heldKeys.length = 0;
  send({ type: "input", command: 0 });
  sentCommand = 0;
  if (activePointer !== null) endPointer();
}

window.addEventListener("blur", releaseEverything);
document.addEventListener("visibilitychange", () => {
  if (document.hidden) releaseEverything();
});

function togglePause() {
  const frame = state.frame;
  if (!frame) return;
  if (frame.winner) send({ type: "new_match" });
  else send({ type: "pause", paused: !frame.paused });
}

el.pauseBtn.addEventListener("pointerdown", (event) => event.preventDefault()); // keep focus off it
el.pauseBtn.addEventListener("click", () => { togglePause(); el.pauseBtn.blur(); });

// ---- input: pointer / touch --------------------------------------------------------------

/*
 * A mouse steers while its button is held over the court (so a resting mouse never fights
 * the keyboard); a touch or pen steers as soon as it touches. The paddle is asked to go to
 * the pointer's height; letting go sends null. Moves are sent at most once per animation
 * frame. A tap on a paused court resumes; a tap after the match starts a new one.
 */
let activePointer = null;
let pendingPointerY = null;

function courtFraction(event) {
  const rect = el.canvas.getBoundingClientRect();
  const y = (event.clientY - rect.top) / rect.height;
  return Math.min(1, Math.max(0, y));
}

el.canvas.addEventListener("pointerdown", (event) => {
  if (event.pointerType === "mouse" && event.button !== 0) return;
  event.preventDefault();
  const frame = state.frame;
  if (!frame || !mirrorPong.connected) return;
  if (frame.winner) { send({ type: "new_match" }); return; }
  if (frame.paused) send({ type: "pause", paused: false });
  if (activePointer !== null) return;                  // one finger steers; others are ignored
  activePointer = event.pointerId;
  try { el.canvas.setPointerCapture(event.pointerId); } catch { /* already gone */ }
  pendingPointerY = courtFraction(event);
});

el.canvas.addEventListener("pointermove", (event) => {
  if (event.pointerId !== activePointer) return;
  pendingPointerY = courtFraction(event);
});

for (const type of ["pointerup", "pointercancel", "lostpointercapture"]) {
  el.canvas.addEventListener(type, (event) => {
    if (event.pointerId === activePointer) endPointer();
  });
}

el.canvas.addEventListener("contextmenu", (event) => event.preventDefault());

function endPointer() {
  activePointer = null;
  pendingPointerY = null;
  send({ type: "pointer", y: null });
  if (currentCommand() !== 0) sendCommand(true);       // a key still held takes over again
}

function flushPointer() {
  if (pendingPointerY === null || activePointer === null) return;
  if (send({ type: "pointer", y: pendingPointerY })) pendingPointerY = null;
}

/** After (re)connecting, tell the server what the controls are doing right now. */
function resyncInput() {
  sentCommand = 0;
  sendCommand(true);
  if (activePointer !== null && pendingPointerY === null && state.frame) {
    pendingPointerY = state.frame.left_y / state.court.height;
  }
}

// ---- main loop ---------------------------------------------------------------------------

function loop(now) {
  flushPointer();
  draw(now);
  requestAnimationFrame(loop);
}

updateHelp();
resize();
updatePauseButton();
connect();
requestAnimationFrame(loop);
