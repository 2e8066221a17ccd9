/*
 * Mirror Pong — the game page's learning panel (#learning in index.html).
 *
 * The panel shows the learner's latest report (frame.learning, on about one frame in 30,
 * i.e. twice a second): how much like the player the mirror plays, a uPlot chart of that
 * over the last 10 minutes (window.uPlot, vendored in /static/vendor/uplot/), and the
 * controls (pause/resume, reset, model kind, relevance-weight sliders); "learning is off"
 * when no report ever comes. Controls send exactly the shapes of learner/live.py's
 * CONTROL_SCHEMAS. A value the player just changed wins over the server's echo for a moment
 * (PENDING_MS), so a report already in flight does not snap a control back.
 *
 * What lives here, top to bottom: the panel's constants and slider specs, startLearningPanel
 * (the one entry: app.js gives it the socket and the input it needs and feeds it "hello" and
 * "frame"), the status, the controls, the sliders, the buttons, the chart and the panel's clock.
 */

import { $, PALETTE, clock, percent, setText, withAlpha } from "./shared.js";

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

/** The three phase weights share a range: a multiplier from 0 to 5. */
const phaseSlider = (name, label, help) => ({ name, label, min: 0, max: 5, step: 0.05, unit: "×", help });

/** One slider per RelevanceWeights field (learner/sampler.py), in the order shown. */
const WEIGHT_SLIDERS = [
  phaseSlider("approach", "Ball coming at you",
    "Your moves while the ball heads your way: where your style shows most."),
  phaseSlider("recede", "Ball moving away",
    "Your moves after your hit, while the ball flies off."),
  phaseSlider("serve", "Waiting for the serve",
    "Your moves while the ball waits in the middle."),
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

/** What the page lends the panel; set once by startLearningPanel. */
let page = null;

const pendingFresh = (p) => p && performance.now() < p.until;

// ---- the entry ---------------------------------------------------------------------------

/**
 * Wires the panel up and returns { onHello(), onFrame(frame) } for the page's "hello" and
 * "frame" handlers. What the page lends it:
 *   send(message)     sends one message to the server; false when the socket is not open
 *   isConnected()     whether the socket is open now (the controls are disabled when not)
 *   onReport(report)  each learner report, as it comes (the page shows it to the tests)
 *   releaseInput()    lets go of held keys and the pointer (a dialog takes the keyboard)
 */
export function startLearningPanel({ send, isConnected, onReport, releaseInput }) {
  page = { send, isConnected, onReport, releaseInput };
  wireButtons();
  setInterval(checkLearner, 1000);
  buildSliders();
  return { onHello, onFrame };
}

function onHello() {
  learn.framesSince = 0;
  panel.root.hidden = false;
}

function onFrame(frame) {
  if (!learn.framesSince) learn.framesSince = performance.now();
  if (frame.learning) onLearningReport(frame.learning);
  renderVersion(frame);
}

/** The panel's clock: no learner, or a learner gone quiet. */
function checkLearner() {
  const now = performance.now();
  if (!page.isConnected()) {
    if (learn.last) renderControls(learn.last);   // disables the controls
    return;
  }
  if (!learn.last && !learn.off && learn.framesSince && now - learn.framesSince > NO_LEARNER_AFTER_MS) {
    learn.off = true;
    showPanelParts();
  }
  panel.silent.hidden = !learn.last || learn.off || now - learn.seenAt < LEARNER_SILENT_MS;
}

// ---- status ------------------------------------------------------------------------------

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
  learn.last = report;
  page.onReport(report);
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
  setText(panel.agreement, percent(r.agreement));
  setText(panel.approach, percent(r.approach_agreement));
  setText(panel.untrained, percent(r.untrained_agreement));
  const learning = pendingFresh(learn.pendingLearning) ? learn.pendingLearning.value : r.learning;
  const stopped = r.state === "stopped";
  setText(panel.state, stopped ? "stopped" : learning ? "on" : "off");
  panel.state.className = learning && !stopped ? "on" : "off";
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

  const [health, warn] = learnerHealth(r);
  panel.health.hidden = !health;
  panel.health.className = warn ? "warn" : "";
  setText(panel.health, health);
}

/** What the learner is really doing, in words, and whether that deserves a warning. The
 * server says which state it is in and how old its figures are (``state``, ``stats_age``). */
function learnerHealth(r) {
  const age = typeof r.stats_age === "number" ? Math.round(r.stats_age) : null;
  const why = r.state_reason ? ` (${r.state_reason})` : "";
  switch (r.state) {
    case "restarting":
      return [`The learner stopped and is coming back; your mirror keeps playing${why}`, true];
    case "stopped":
      return [`Learning has stopped${why}. The figures above are from ${age ?? "?"} s ago.`, true];
    case "quiet":
      return [`No news from the learner for ${age} s: the figures above are that old`, true];
    case "starting":
      return ["The learner is starting…", false];
  }
  if (r.trainer_restarts > 0) {
    return [`The learner restarted ${r.trainer_restarts}× (your mirror kept playing)`, false];
  }
  return ["", false];
}

function renderVersion(frame) {
  const opponent = frame.opponent;
  const ready = opponent && opponent.version > 0 && opponent.label !== "scripted";
  setText(panel.version, ready ? `v${opponent.version}` : "not ready yet — still learning your moves");
  panel.version.className = ready ? "ready" : "";
}

// ---- controls ----------------------------------------------------------------------------

function renderControls(r) {
  const usable = page.isConnected() && !learn.off;
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

// ---- sliders -----------------------------------------------------------------------------

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
  const sent = page.send({ type: "sampler_weights", weights: { [name]: value } });
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

// ---- buttons and model choice ------------------------------------------------------------

function afterClick(event, button) {
  if (event.detail > 0) button.blur();   // a mouse/touch click: the keys go back to the game
}

function wireButtons() {
  panel.toggle.addEventListener("click", (event) => {
    afterClick(event, panel.toggle);
    if (!learn.last) return;
    const on = panel.toggle.dataset.learning !== "off";
    if (page.send({ type: "learning", action: on ? "pause" : "resume" })) {
      learn.pendingLearning = { value: !on, until: performance.now() + PENDING_MS };
      renderStatus(learn.last);
      renderControls(learn.last);
    }
  });

  panel.reset.addEventListener("click", (event) => {
    afterClick(event, panel.reset);
    page.releaseInput();   // the dialog takes the keyboard; do not leave a key held down
    const sure = window.confirm(
      "Reset the mirror?\n\nIt forgets everything it has learned from you and starts over. " +
      "The scripted opponent plays until the new mirror is ready.");
    if (!sure) return;
    if (page.send({ type: "learning", action: "reset" })) chart.clear();
  });

  panel.modelChoice.addEventListener("change", (event) => {
    const radio = event.target;
    if (!(radio instanceof HTMLInputElement) || radio.name !== "model") return;
    if (page.send({ type: "architecture", name: radio.value })) {
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
}

// ---- chart (uPlot, vendored: /static/vendor/uplot/) --------------------------------------

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
    const axis = { stroke: PALETTE.dim, grid: { stroke: withAlpha(PALETTE.dim, 0.15), width: 1 },
      ticks: { stroke: withAlpha(PALETTE.dim, 0.25), width: 1 }, font: "11px system-ui, sans-serif" };
    const shownPercent = (u, v) => v == null ? "—" : `${Math.round(v)}%`;
    this.plot = new window.uPlot({
      width,
      height: CHART_HEIGHT,
      cursor: { drag: { x: false, y: false }, points: { size: 5 } },
      legend: { show: true, live: false },
      scales: { x: { time: false }, "%": { auto: false, range: [0, 100] }, loss: { auto: true } },
      series: [
        { value: (u, v) => v == null ? "—" : clock(v, false) },
        { label: "Like you", scale: "%", stroke: PALETTE.accent, width: 2, points: { show: false }, value: shownPercent },
        { label: "Ball at you", scale: "%", stroke: PALETTE.ok, width: 1.5, points: { show: false }, value: shownPercent },
        { label: "Error", scale: "loss", stroke: PALETTE.warn, width: 1, dash: [4, 3], points: { show: false }, value: (u, v) => v == null ? "—" : v.toFixed(2) },
      ],
      axes: [
        // x: minutes:seconds since this page was opened
        { ...axis, space: 50, size: 28, incrs: [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600],
          values: (u, ticks) => ticks.map((t) => clock(t, false)) },
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
