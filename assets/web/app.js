/*
 * Mirror Pong — the browser client.
 *
 * What lives here, top to bottom:
 *   - state       the latest hello and frame, and what the tests read (window.mirrorPong)
 *   - connection  one WebSocket to /ws, reconnecting forever (1 s, backing off to 2 s)
 *   - handlers    a table of incoming message handlers keyed by message "type"; to handle
 *                 a new message, add an entry (or call window.mirrorPong.on(type, fn))
 *   - interpolation  the drawn positions glide from where they were drawn to each new frame
 *                 over one tick, so the picture runs about one server tick behind
 *   - drawing     the canvas (sized to the court's aspect ratio, crisp on HiDPI) and the HUD
 *   - learning panel  #learning: the learner's report (frame.learning, twice a second), a
 *                 uPlot chart of it (window.uPlot, vendored in /static/vendor/uplot/) and
 *                 the learner's controls; "learning is off" when no report ever comes
 *   - input       keyboard (W/S, arrows, Space), pointer/touch on the court, pause button
 *
 * Protocol (see game/server.py): server -> client "hello" then one "frame" per tick;
 * client -> server "input" {command}, "pointer" {y}, "pause" {paused}, "new_match";
 * with the learner on (learner/live.py CONTROL_SCHEMAS) also "learning" {action:
 * pause|resume|reset}, "architecture" {name: mlp|transformer} and "sampler_weights"
 * {weights: {field: number >= 0}}.
 * The server rejects extra fields, so messages are sent in exactly those shapes.
 * The court itself (palette, score digits, paddles, ball, sizing) is drawn by ./court.js,
 * shared with the replay viewer.
 */

import { drawBall, drawCourt, drawPaddles, drawScore, fitCourt, lerp, sizeCourt } from "./court.js";

const SNAP_DISTANCE = 0.3;        // court units: a bigger ball jump is a serve/new point, not motion
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
  handlers,
  on(type, fn) { handlers[type] = fn; },
  send,
};
window.mirrorPong = mirrorPong;

const $ = (id) => document.getElementById(id);
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
  learning: $("learning"),
};
const ctx = el.canvas.getContext("2d");

// ---- connection --------------------------------------------------------------------------

let socket = null;
let retryMs = RETRY_FIRST_MS;
let retryTimer = null;
let lastMessageAt = 0;
let attempts = 0;

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
    mirrorPong.connected = true;
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
  el.help.textContent =
    `W/S or ↑/↓ to move, or drag/touch on the court; Space to pause; first to ${state.pointsToWin} wins`;
  interp.reset();                      // a fresh connection starts from its first frame
  onLearningHello();
  resize();
};

handlers.frame = (frame) => {
  const previous = state.frame;
  state.frame = mirrorPong.lastFrame = frame;
  interp.push(frame, previous);
  noteEffects(frame, previous);
  updateHud(frame, previous);
  learningOnFrame(frame);              // frame.learning (about one frame in 30) feeds the panel
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
  if (opponent.label === "scripted") return "Opponent: scripted (not learning yet)";
  return `Opponent: ${opponent.label} v${opponent.version}`;
}

function updateHud(frame, previous) {
  el.tick.textContent = `tick ${frame.tick}`;
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
  if (frame && frame.winner) {
    const youWon = frame.winner < 0;
    title = youWon ? "You win!" : "Mirror wins";
    kind = youWon ? "win" : "lose";
    sub = `${frame.score[0]} – ${frame.score[1]}\nPress Space or tap to play again`;
  } else if (frame && frame.paused) {
    title = "Paused — press Space";
    sub = "or tap the court to resume";
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

// ---- learning panel ----------------------------------------------------------------------

/*
 * The side panel #learning shows the learner's latest report (frame.learning, on about one
 * frame in 30, i.e. twice a second): how much like the player the mirror plays, a uPlot
 * chart of that over the last 10 minutes, and the controls (pause/resume, reset, model kind,
 * relevance-weight sliders). Controls send exactly the shapes of learner/live.py's
 * CONTROL_SCHEMAS. A value the player just changed wins over the server's echo for a moment
 * (PENDING_MS), so a report already in flight does not snap a control back.
 */

const NO_LEARNER_AFTER_MS = 4000;  // frames but no frame.learning this long: --no-learn
const LEARNER_SILENT_MS = 5000;    // had reports, then none this long: say so
const CHART_WINDOW_S = 600;        // the chart keeps the last 10 minutes
const CHART_HEIGHT = 160;          // css px, axes included (the legend comes below)
const PENDING_MS = 2000;
const SLIDER_SEND_EVERY_MS = 300;  // while dragging, at most this often

const MODEL_NAMES = {
  mlp: "Simple (MLP)",
  transformer: "Transformer (remembers the last quarter second)",
};

/** One slider per RelevanceWeights field (learner/sampler.py), in the order shown. */
const WEIGHT_SLIDERS = [
  { name: "approach", label: "Ball coming at you", min: 0, max: 5, step: 0.05, unit: "×",
    help: "Your moves while the ball heads your way: where your style shows most." },
  { name: "recede", label: "Ball moving away", min: 0, max: 5, step: 0.05, unit: "×",
    help: "Your moves after your hit, while the ball flies off." },
  { name: "serve", label: "Waiting for the serve", min: 0, max: 5, step: 0.05, unit: "×",
    help: "Your moves while the ball waits in the middle." },
  { name: "urgency", label: "Urgency as the ball nears you", min: 0, max: 10, step: 0.1, unit: "+",
    help: "Extra attention to the last instants before the ball reaches you; 0 = off." },
  { name: "urgency_tau", label: "How early urgency starts (s)", min: 0.05, max: 2, step: 0.05, unit: "s",
    help: "Bigger = the extra attention begins further ahead of the ball's arrival." },
  { name: "pre_event", label: "Moments before your hit or miss", min: 0, max: 10, step: 0.1, unit: "×",
    help: "Weight of those moments; 1 = same as the rest, 0 = skip them." },
  { name: "event_window", label: "How long “before” lasts (s)", min: 0, max: 2, step: 0.05, unit: "s",
    help: "Which moments count as just before a hit or miss (applies to new play)." },
  { name: "recency_half_life", label: "Favour recent play (half-life, min; 0 = off)", min: 0, max: 30, step: 0.5, unit: "min",
    help: "After this many minutes of play, older moves count half as much." },
];
const PHASE_WEIGHTS = ["approach", "recede", "serve"];

const panel = {
  root: $("learning"),
  waiting: $("learn-waiting"),
  off: $("learning-off"),
  live: $("learn-live"),
  agreement: $("agreement"),
  approach: $("approach-agreement"),
  untrained: $("untrained-agreement"),
  version: $("model-version"),
  state: $("learning-state"),
  kind: $("model-kind"),
  frames: $("frames-learned"),
  samples: $("samples-rate"),
  rejections: $("rejections"),
  health: $("trainer-health"),
  silent: $("learner-silent"),
  chartBox: $("learn-chart-box"),
  chart: $("learning-chart"),
  controls: $("learn-controls"),
  toggle: $("toggle-learning"),
  reset: $("reset-mirror"),
  modelChoice: $("model-choice"),
  weightsBox: $("weights"),
  sliders: $("weight-sliders"),
  weightsNote: $("weights-note"),
};

const learn = {
  last: null,            // the latest frame.learning
  seenAt: 0,             // performance.now() of it
  framesSince: 0,        // performance.now() of the first frame since the last hello
  off: false,            // decided: this server has no learner
  pendingLearning: null, // { value, until }
  pendingModel: null,    // { value, until }
  pendingWeights: {},    // name -> { value, until }
  weights: null,         // the server's weights, as last reported
};

const pct = (x) => (typeof x === "number" && isFinite(x) ? `${Math.round(x * 100)}%` : "—");
const setText = (node, text) => { if (node.textContent !== text) node.textContent = text; };
const pendingFresh = (p) => p && performance.now() < p.until;

function formatCount(n) {
  return Math.round(n).toLocaleString("en-US");
}

function formatMinutes(frames) {
  const minutes = frames / 60 / 60;
  if (minutes === 0) return "0";
  if (minutes < 0.1) return "0.1";
  return minutes < 10 ? minutes.toFixed(1) : String(Math.round(minutes));
}

function onLearningReport(report) {
  learn.last = mirrorPong.learning = report;
  learn.seenAt = performance.now();
  learn.off = false;
  showPanelParts();
  renderStatus(report);
  renderControls(report);
  chart.push(report);
}

function showPanelParts() {
  const have = !!learn.last && !learn.off;
  panel.waiting.hidden = have || learn.off;
  panel.off.hidden = !learn.off;
  panel.live.hidden = !have;
  panel.chartBox.hidden = !have;
  panel.controls.hidden = !have;
  if (have) chart.ensure();
}

function renderStatus(r) {
  setText(panel.agreement, pct(r.agreement));
  setText(panel.approach, pct(r.approach_agreement));
  setText(panel.untrained, pct(r.untrained_agreement));
  const learning = pendingFresh(learn.pendingLearning) ? learn.pendingLearning.value : r.learning;
  setText(panel.state, learning ? "on" : "off");
  panel.state.className = learning ? "on" : "off";
  setText(panel.kind, MODEL_NAMES[r.architecture] || r.architecture || "—");
  const frames = r.frames || 0;
  setText(panel.frames,
    `Learned from ${formatCount(frames)} frame${frames === 1 ? "" : "s"} (≈ ${formatMinutes(frames)} min of your play)`);

  const rate = r.samples_per_second;
  setText(panel.samples, typeof rate === "number" && rate > 0
    ? `Practising on ${formatCount(rate)} samples/s`
    : learning ? "Practising: waiting for more of your play" : "Practising: paused");

  const rejected = r.rejected || 0;
  panel.rejections.hidden = rejected === 0;
  if (rejected) {
    const reason = r.last_rejection ? `Kept the previous mirror: ${r.last_rejection}` : "Kept the previous mirror";
    setText(panel.rejections, `New models turned down: ${rejected}. ${reason}`);
  }

  let health = "";
  if (r.trainer_alive === false) health = "trainer restarting…";
  else if (r.trainer_restarts > 0) {
    health = `The learner restarted ${r.trainer_restarts}× (your mirror kept playing)`;
  }
  panel.health.hidden = !health;
  panel.health.className = r.trainer_alive === false ? "warn" : "";
  setText(panel.health, health);
}

function renderVersion(frame) {
  const opponent = frame.opponent;
  const ready = opponent && opponent.version > 0 && opponent.label !== "scripted";
  setText(panel.version, ready ? `v${opponent.version}` : "not ready yet — still learning your moves");
  panel.version.className = ready ? "ready" : "";
}

function renderControls(r) {
  const usable = mirrorPong.connected && !learn.off;
  const learning = pendingFresh(learn.pendingLearning) ? learn.pendingLearning.value : r.learning;
  if (!pendingFresh(learn.pendingLearning)) learn.pendingLearning = null;
  setText(panel.toggle, learning ? "Pause learning" : "Resume learning");
  panel.toggle.dataset.learning = learning ? "on" : "off";
  panel.toggle.disabled = !usable;
  panel.reset.disabled = !usable;
  panel.modelChoice.disabled = !usable;
  panel.weightsBox.disabled = !usable;

  const model = pendingFresh(learn.pendingModel) ? learn.pendingModel.value : r.architecture;
  if (!pendingFresh(learn.pendingModel)) learn.pendingModel = null;
  for (const radio of panel.modelChoice.querySelectorAll("input[name=model]")) {
    radio.checked = radio.value === model;
  }

  learn.weights = r.weights || learn.weights;
  if (learn.weights) {
    for (const spec of WEIGHT_SLIDERS) {
      const value = learn.weights[spec.name];
      if (typeof value !== "number") continue;
      const pending = learn.pendingWeights[spec.name];
      if (pending) {
        if (pendingFresh(pending) && pending.value !== value) continue;   // echo not back yet
        delete learn.pendingWeights[spec.name];
      }
      const slider = sliders[spec.name];
      if (slider.dragging || slider.sendTimer) continue;
      setSlider(spec, value);
    }
  }
}

// -- sliders

const sliders = {};   // name -> { input, output, spec, dragging, lastSent, sendTimer }

function formatWeight(spec, value) {
  if (spec.name === "recency_half_life" && value === 0) return "off";
  const digits = spec.step < 0.1 ? 2 : 1;
  const text = Number(value).toFixed(digits);
  if (spec.unit === "×") return `×${text}`;
  if (spec.unit === "+") return value === 0 ? "off" : `+${text}`;
  return `${text} ${spec.unit}`;
}

function setSlider(spec, value) {
  const s = sliders[spec.name];
  if (value > Number(s.input.max)) s.input.max = String(value);   // a saved value beyond the range
  if (Number(s.input.value) !== value) s.input.value = String(value);
  setText(s.output, formatWeight(spec, value));
}

function buildSliders() {
  for (const spec of WEIGHT_SLIDERS) {
    const row = document.createElement("div");
    row.className = "slider";
    const id = `weight-${spec.name}`;   // e.g. #weight-recede, #weight-recency_half_life
    row.innerHTML = `
      <div class="slider-head"><label for="${id}"></label><output for="${id}"></output></div>
      <input type="range" id="${id}" name="${spec.name}"
             min="${spec.min}" max="${spec.max}" step="${spec.step}">
      <div class="slider-help"></div>`;
    row.querySelector("label").textContent = spec.label;
    row.querySelector(".slider-help").textContent = spec.help;
    const input = row.querySelector("input");
    const output = row.querySelector("output");
    const s = sliders[spec.name] = {
      input, output, spec, dragging: false, byPointer: false, lastSent: 0, lastSentValue: null, sendTimer: null,
    };
    input.addEventListener("pointerdown", () => { s.dragging = true; s.byPointer = true; });
    input.addEventListener("keydown", () => { s.byPointer = false; });
    input.addEventListener("input", () => {
      setText(output, formatWeight(spec, Number(input.value)));
      throttledSend(s);
    });
    input.addEventListener("change", () => {
      clearTimeout(s.sendTimer);
      s.sendTimer = null;
      sendWeight(s);
      s.dragging = false;
      if (s.byPointer) input.blur();   // hand the arrow keys back to the paddle
      s.byPointer = false;
    });
    // A drag released outside the slider still ends the drag.
    window.addEventListener("pointerup", () => { s.dragging = false; });
    panel.sliders.appendChild(row);
  }
}

function throttledSend(s) {
  const wait = s.lastSent + SLIDER_SEND_EVERY_MS - performance.now();
  if (wait <= 0) { sendWeight(s); return; }
  if (!s.sendTimer) s.sendTimer = setTimeout(() => { s.sendTimer = null; sendWeight(s); }, wait);
}

function sendWeight(s) {
  const name = s.spec.name;
  const value = Number(s.input.value);
  if (!isFinite(value) || value < 0) return;
  if (PHASE_WEIGHTS.includes(name) && value === 0 && learn.weights &&
      PHASE_WEIGHTS.every((other) => other === name || currentWeight(other) === 0)) {
    // The server refuses all three phase weights at zero (nothing could be drawn).
    showWeightsNote("At least one of the first three must stay above 0.");
    const back = s.spec.step;
    s.input.value = String(back);
    setText(s.output, formatWeight(s.spec, back));
    return sendWeight(s);
  }
  if (value === s.lastSentValue && pendingFresh(learn.pendingWeights[name])) return;  // input + change
  const sent = send({ type: "sampler_weights", weights: { [name]: value } });
  if (sent) {
    s.lastSent = performance.now();
    s.lastSentValue = value;
    learn.pendingWeights[name] = { value, until: performance.now() + PENDING_MS };
    if (learn.weights) learn.weights = { ...learn.weights, [name]: value };
  }
}

function currentWeight(name) {
  const pending = learn.pendingWeights[name];
  return pendingFresh(pending) ? pending.value : learn.weights[name];
}

let weightsNoteTimer = null;
function showWeightsNote(text) {
  panel.weightsNote.textContent = text;
  panel.weightsNote.hidden = false;
  clearTimeout(weightsNoteTimer);
  weightsNoteTimer = setTimeout(() => { panel.weightsNote.hidden = true; }, 4000);
}

// -- buttons and model choice

function afterClick(event, button) {
  if (event.detail > 0) button.blur();   // a mouse/touch click: the keys go back to the game
}

panel.toggle.addEventListener("click", (event) => {
  afterClick(event, panel.toggle);
  if (!learn.last) return;
  const on = panel.toggle.dataset.learning !== "off";
  if (send({ type: "learning", action: on ? "pause" : "resume" })) {
    learn.pendingLearning = { value: !on, until: performance.now() + PENDING_MS };
    renderStatus(learn.last);
    renderControls(learn.last);
  }
});

panel.reset.addEventListener("click", (event) => {
  afterClick(event, panel.reset);
  releaseEverything();   // the dialog takes the keyboard; do not leave a key held down
  const sure = window.confirm(
    "Reset the mirror?\n\nIt forgets everything it has learned from you and starts over. " +
    "The scripted opponent plays until the new mirror is ready.");
  if (!sure) return;
  if (send({ type: "learning", action: "reset" })) chart.clear();
});

panel.modelChoice.addEventListener("change", (event) => {
  const radio = event.target;
  if (!(radio instanceof HTMLInputElement) || radio.name !== "model") return;
  if (send({ type: "architecture", name: radio.value })) {
    learn.pendingModel = { value: radio.value, until: performance.now() + PENDING_MS };
  }
});
panel.modelChoice.addEventListener("click", (event) => {
  const target = event.target;
  if (event.detail > 0 && target instanceof HTMLElement) {
    const radio = target.closest("label")?.querySelector("input") || target;
    setTimeout(() => radio.blur(), 0);
  }
});

// -- chart (uPlot, vendored: /static/vendor/uplot/)

const chart = {
  plot: null,
  failed: false,
  data: [[], [], [], []],   // seconds (wall time), agreement %, approach %, loss

  ensure() {
    if (this.plot || this.failed) return;
    if (typeof window.uPlot !== "function") {
      this.failed = true;
      panel.chart.textContent = "(chart unavailable)";
      return;
    }
    const width = Math.max(200, Math.floor(panel.chart.clientWidth || 280));
    const axis = { stroke: "#8b949e", grid: { stroke: "rgba(139,148,158,0.15)", width: 1 },
      ticks: { stroke: "rgba(139,148,158,0.25)", width: 1 }, font: "11px system-ui, sans-serif" };
    this.plot = new window.uPlot({
      width,
      height: CHART_HEIGHT,
      cursor: { drag: { x: false, y: false }, points: { size: 5 } },
      legend: { show: true, live: false },
      scales: { x: { time: false }, "%": { auto: false, range: [0, 100] }, loss: { auto: true } },
      series: [
        { value: (u, v) => v == null ? "—" : clockText(v) },
        { label: "Like you", scale: "%", stroke: "#79c0ff", width: 2, points: { show: false }, value: (u, v) => v == null ? "—" : `${Math.round(v)}%` },
        { label: "Ball at you", scale: "%", stroke: "#3fb950", width: 1.5, points: { show: false }, value: (u, v) => v == null ? "—" : `${Math.round(v)}%` },
        { label: "Error", scale: "loss", stroke: "#d29922", width: 1, dash: [4, 3], points: { show: false }, value: (u, v) => v == null ? "—" : v.toFixed(2) },
      ],
      axes: [
        // x: minutes:seconds since this page was opened
        { ...axis, space: 50, size: 28, incrs: [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600],
          values: (u, ticks) => ticks.map(clockText) },
        { ...axis, scale: "%", values: (u, ticks) => ticks.map((t) => `${t}%`), size: 48, space: 25 },
        { ...axis, scale: "loss", side: 1, grid: { show: false }, size: 38,
          values: (u, ticks) => ticks.map((t) => t.toFixed(1)) },
      ],
    }, this.data, panel.chart);
    new ResizeObserver(() => this.fit()).observe(panel.chart);
  },

  fit() {
    if (!this.plot) return;
    const width = Math.floor(panel.chart.clientWidth);
    if (width > 0 && width !== this.plot.width) this.plot.setSize({ width, height: CHART_HEIGHT });
  },

  push(r) {
    const now = performance.now() / 1000;   // seconds since the page was opened
    const num = (x, k = 1) => (typeof x === "number" && isFinite(x) ? x * k : null);
    const [xs, agr, appr, loss] = this.data;
    xs.push(now);
    agr.push(num(r.agreement, 100));
    appr.push(num(r.approach_agreement, 100));
    loss.push(num(r.loss));
    let drop = 0;
    while (drop < xs.length && xs[drop] < now - CHART_WINDOW_S) drop++;
    if (drop) for (const column of this.data) column.splice(0, drop);
    if (this.plot) this.plot.setData(this.data);
  },

  clear() {
    for (const column of this.data) column.length = 0;
    if (this.plot) this.plot.setData(this.data);
  },
};

function clockText(seconds) {
  const whole = Math.max(0, Math.round(seconds));
  return `${Math.floor(whole / 60)}:${String(whole % 60).padStart(2, "0")}`;
}

// -- the panel's clock: no learner, or a learner gone quiet

function onLearningHello() {
  learn.framesSince = 0;
  panel.root.hidden = false;
}

function learningOnFrame(frame) {
  if (!learn.framesSince) learn.framesSince = performance.now();
  if (frame.learning) onLearningReport(frame.learning);
  renderVersion(frame);
}

setInterval(() => {
  const now = performance.now();
  if (!mirrorPong.connected) {
    if (learn.last) renderControls(learn.last);   // disables the controls
    return;
  }
  if (!learn.last && !learn.off && learn.framesSince && now - learn.framesSince > NO_LEARNER_AFTER_MS) {
    learn.off = true;
    showPanelParts();
  }
  panel.silent.hidden = !learn.last || learn.off || now - learn.seenAt < LEARNER_SILENT_MS;
}, 1000);

buildSliders();

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

resize();
updatePauseButton();
connect();
requestAnimationFrame(loop);
