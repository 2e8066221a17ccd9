/*
 * Mirror Pong — the game page's learning panel (#learning in index.html).
 *
 * The panel shows the learner's latest report (frame.learning, on about one frame in 30,
 * i.e. twice a second) in a player's words: how much like the player the mirror they are
 * playing is (no figure at all while no mirror plays), how the next one is doing while it
 * practises, a uPlot chart of both over the last 10 minutes with each new mirror and model
 * change marked (window.uPlot, vendored in /static/vendor/uplot/), and the controls
 * (pause/resume, reset, model kind, relevance-weight sliders); "learning is off" when no
 * report ever comes. Controls send exactly the shapes of learner/live.py's CONTROL_SCHEMAS.
 * A value the player just changed wins over the server's echo for a moment (PENDING_MS), so
 * a report already in flight does not snap a control back.
 *
 * Whether a mirror plays at all is read from each frame's opponent (sent every tick), never
 * from a report, which may be older. Mirrors carry the number the server gives them
 * (report.mirror_number: the mirrors this player has met over all sessions, kept across
 * restarts) in the panel, the HUD and the chart; the learner's own version numbers every
 * try, turned-down ones included, so they skip; the version's tooltip gives both.
 * While the page has lost the server the panel is dimmed and says its figures are from
 * before (onConnection).
 *
 * What lives here, top to bottom: the panel's constants and slider specs, startLearningPanel
 * (the one entry: app.js gives it the socket and the input it needs and feeds it "hello",
 * "frame" and the connection's changes), the mirrors' numbers, the status, the controls,
 * the sliders, the buttons, the chart and the panel's clock.
 */

import { $, PALETTE, clock, percent, setText, withAlpha } from "./shared.js";

const NO_LEARNER_AFTER_MS = 4000;  // frames but no frame.learning this long: --no-learn
const LEARNER_SILENT_MS = 5000;    // had reports, then none this long: say so
const CHART_WINDOW_S = 600;        // the chart keeps the last 10 minutes
const CHART_HEIGHT = 160;          // css px, axes included (the legend comes below)
const PENDING_MS = 2000;
const SLIDER_SEND_EVERY_MS = 300;  // while dragging, at most this often
const FRAMES_PER_MINUTE = 60 * 60; // the game ticks (and the learner reads) 60 frames a second
const LABEL_GAP_PX = 3;            // css px between a chart mark and its label, and between labels

const MODEL_NAMES = {
  mlp: "Simple (MLP, reads the last 0.4 s)",
  transformer: "Transformer (attends over the last 0.4 s)",
};
const MODEL_SHORT_NAMES = { mlp: "Simple", transformer: "Transformer" };

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
  offline: $("learn-offline"),
  waiting: $("learn-waiting"),
  off: $("learning-off"),
  live: $("learn-live"),
  noMirror: $("no-mirror-yet"),
  mirrorFigures: $("mirror-figures"),
  agreement: $("agreement"),
  figuresNote: $("figures-note"),
  trainingLine: $("training-line"),
  training: $("training-agreement"),
  approach: $("approach-agreement"),
  version: $("model-version"),
  state: $("learning-state"),
  kind: $("model-kind"),
  moves: $("mirror-moves"),
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
  adapt: $("adapt-sampler"),
  adaptFocus: $("adapt-focus"),
};

const learn = {
  last: null,            // the latest frame.learning
  seenAt: 0,             // performance.now() of it
  framesSince: 0,        // performance.now() of the first frame since the last hello
  off: false,            // decided: this server has no learner
  pendingLearning: null, // { value, until }
  pendingAdapt: null,    // { value, until }
  pendingModel: null,    // { value, until }
  pendingWeights: {},    // name -> { value, until }
  weights: null,         // the server's weights, as last reported
  opponent: null,        // frame.opponent of the latest frame
  plays: false,          // whether a mirror played in the latest frame
  mirror: null,          // { version, number }: the learner's version -> the player's number
  savedAge: null,        // { version, age, at }: how old the restored mirror's saved figure is
  connected: false,
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
 * What it gives back: onHello(), onFrame(frame), onConnection(connected) (each time the
 * socket opens or is lost), mirrorNumber(opponent) for the HUD, and chartLabels() (the
 * chart's mark labels as last drawn, for the tests).
 */
export function startLearningPanel({ send, isConnected, onReport, releaseInput }) {
  page = { send, isConnected, onReport, releaseInput };
  wireButtons();
  setInterval(checkLearner, 1000);
  buildSliders();
  return { onHello, onFrame, onConnection, mirrorNumber, chartLabels: () => chart.drawn };
}

function onHello() {
  learn.framesSince = 0;
  learn.mirror = null;   // a new connection may be a restarted server: wait for its number
  panel.root.hidden = false;
}

function onFrame(frame) {
  if (!learn.framesSince) learn.framesSince = performance.now();
  learn.opponent = frame.opponent;
  followMirror(frame.opponent);
  if (frame.learning) onLearningReport(frame.learning);
  const plays = mirrorPlays(frame.opponent);
  if (plays !== learn.plays) {
    // A mirror came or went between reports: say so on this frame, not the next report.
    learn.plays = plays;
    showPanelParts();
    if (learn.last) renderStatus(learn.last);
  }
  renderVersion(frame);
}

/** The socket opened (true) or was lost (false): while lost, the panel is dimmed and says
 * that what it shows is from before. */
function onConnection(connected) {
  learn.connected = connected;
  showPanelParts();
  if (learn.last) renderControls(learn.last);   // disables the controls while lost
}

/** The panel's clock: no learner, or a learner gone quiet. */
function checkLearner() {
  const now = performance.now();
  if (!page.isConnected()) return;   // onConnection has said so
  if (!learn.last && !learn.off && learn.framesSince && now - learn.framesSince > NO_LEARNER_AFTER_MS) {
    learn.off = true;
    showPanelParts();
  }
  panel.silent.hidden = !learn.last || learn.off || now - learn.seenAt < LEARNER_SILENT_MS;
}

// ---- the mirrors' numbers ------------------------------------------------------------------

/** Whether a mirror (not the scripted stand-in) plays the opponent's side. */
export function mirrorPlays(opponent) {
  return !!opponent && opponent.version > 0 && opponent.label !== "scripted";
}

/** Each frame: a mirror the page has no number for yet, after one it has, is the next one.
 * The server counts exactly so (every new version that takes over is one more mirror met),
 * and its next report, at most half a second later, confirms or corrects it. */
function followMirror(opponent) {
  const known = learn.mirror;
  if (known && mirrorPlays(opponent) && opponent.version !== known.version) {
    learn.mirror = { version: opponent.version, number: known.number + 1 };
  }
}

/** Each report: the server's number for the mirror playing now. */
function noteMirrorNumber(r, opponent) {
  if (mirrorPlays(opponent) && r.version === opponent.version && r.mirror_number > 0) {
    learn.mirror = { version: opponent.version, number: r.mirror_number };
  }
}

/** The number the player sees for the opponent's mirror, or null when no mirror plays (or
 * none has been reported on this connection yet). */
function mirrorNumber(opponent) {
  const known = learn.mirror;
  return mirrorPlays(opponent) && known && known.version === opponent.version ? known.number : null;
}

// ---- status ------------------------------------------------------------------------------

function formatCount(n) {
  return Math.round(n).toLocaleString("en-US");
}

/** A stretch of play as a player says it: "less than a minute", "23 min", "1 h 5 min". */
export function formatPlayTime(frames) {
  const minutes = Math.round(frames / FRAMES_PER_MINUTE);
  if (frames < FRAMES_PER_MINUTE || minutes < 1) return "less than a minute";
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60), rest = minutes % 60;
  return rest ? `${hours} h ${rest} min` : `${hours} h`;
}

/** Play waiting for the learner is mentioned from this much on (a report is 0.5 s old). */
const QUEUED_SHOWN_FROM_S = 10;

function formatQueued(seconds) {
  return seconds < 90 ? `${Math.round(seconds)} s` : `${Math.round(seconds / 60)} min`;
}

/** How much of the player's play the mirror learned from, and from when: ``play_frames``
 * counts this session's play and the earlier recordings the trainer read when play started,
 * the rallies kept aside to judge each new mirror included (``frames``: the rest, which it
 * trains on), so five minutes played read five minutes. */
function learnedFrom(r) {
  const trained = r.frames || 0;
  const frames = Math.max(trained, typeof r.play_frames === "number" ? r.play_frames : 0);
  const sessions = r.earlier_sessions || 0;
  if (frames <= 0) return { text: "Nothing of your play learned yet", title: "" };
  const aside = frames - trained;
  const split = aside > 0
    ? ` (${formatCount(trained)} to learn from, ${formatCount(aside)} kept aside to judge ` +
      "each new mirror)"
    : "";
  const when = r.figures_from === "saved"
    ? "by the end of your last session"
    : sessions ? `(this session and ${sessions} before)` : "(this session)";
  const recorded = Math.min(frames, r.recorded_frames || 0);
  const title = `${formatCount(frames)} frames at 60 a second${split}` + (recorded && r.figures_from !== "saved"
    ? `; ${formatCount(recorded)} of them from your recordings of ${sessions} earlier ` +
      `session${sessions === 1 ? "" : "s"}, read when this one started`
    : "");
  // A trainer on a busy machine falls behind: the play it has not taken in yet is not lost.
  const queued = r.figures_from === "saved" ? 0 : r.queued_seconds || 0;
  const behind = queued >= QUEUED_SHOWN_FROM_S
    ? ` — ${formatQueued(queued)} more waiting (the computer is busy)` : "";
  return { text: `Learned from ${formatPlayTime(frames)} of your play ${when}${behind}`, title };
}

/** How the playing mirror draws its moves: at the temperature found for the player's jitter,
 * at the default one until enough of their play is seen, or at one the player set. */
export function mirrorMoves(r, plays) {
  const t = r.mirror_temperature;
  // A report made before the mirror the frames show took over knows nothing of it yet.
  if (!plays || !(r.version > 0)) return "—";
  if (typeof t !== "number") return "its likeliest move each time";
  const at = `draws at ${t.toFixed(2).replace(/0$/, "")}`;
  if (r.temperature_source === "own") {
    const yours = typeof r.player_jitter === "number"
      ? ` (your jitter ${r.player_jitter.toFixed(2)} a tick)` : "";
    return `as jittery as you: ${at}${yours}`;
  }
  if (r.temperature_source === "set") return `${at}, as you set it`;
  return r.learning ? `${at} until it has seen more of your play` : at;
}

function onLearningReport(report) {
  learn.last = report;
  page.onReport(report);
  learn.seenAt = performance.now();
  learn.off = false;
  noteMirrorNumber(report, learn.opponent);
  showPanelParts();
  renderStatus(report);
  renderControls(report);
  chart.push(report, learn.opponent);
}

function showPanelParts() {
  const have = !!learn.last && !learn.off;
  panel.waiting.hidden = have || learn.off;
  panel.off.hidden = !learn.off;
  panel.live.hidden = !have;
  // The chart waits for a mirror: before one plays, its figures would read as the opponent's.
  panel.chartBox.hidden = !have || !mirrorPlays(learn.opponent);
  panel.controls.hidden = !have;
  panel.offline.hidden = !have || learn.connected;
  panel.root.classList.toggle("stale", !panel.offline.hidden);
  if (!panel.chartBox.hidden) chart.ensure();
}

/** The time since something happened, for "from your last session, … ago". */
function formatAgo(seconds) {
  if (!(seconds >= 60)) return "";
  const minutes = seconds / 60, hours = minutes / 60, days = hours / 24;
  if (minutes < 90) return `${Math.round(minutes)} min ago`;
  if (hours < 36) return `${Math.round(hours)} h ago`;
  return `${Math.round(days)} days ago`;
}

const isFraction = (x) => typeof x === "number" && isFinite(x);

/**
 * How much like the player the mirror playing now was when it passed its checks
 * (playing_agreement), and whether that figure is the one saved with a mirror brought back
 * from the last session (playing_agreement_saved, until a mirror measured in this session
 * plays) and how old it is, when known. Null while no mirror plays: the scripted stand-in
 * has no such figure.
 */
function playingFigure(r, opponent) {
  if (!mirrorPlays(opponent) || !isFraction(r.playing_agreement)) return null;
  const saved = r.playing_agreement_saved === true;
  const known = learn.savedAge;
  const age = saved && known && known.version === opponent.version
    ? known.age + (performance.now() - known.at) / 1000
    : null;
  return { value: r.playing_agreement, saved, age };
}

/** The saved figure's age is told only while the learner has no figures of this session
 * (stats_age is then the saved ones' age), so it is kept for as long as that mirror plays. */
function noteSavedAge(r, opponent) {
  if (!r.playing_agreement_saved || !mirrorPlays(opponent)) {
    learn.savedAge = null;
  } else if (r.figures_from === "saved" && typeof r.stats_age === "number") {
    learn.savedAge = { version: opponent.version, age: r.stats_age, at: performance.now() };
  }
}

/** Why the last new mirror was turned down, as the player would say it. */
export function plainRejection(reason) {
  const why = /worse than the current model/.test(reason || "")
    ? "the new one was not more like you"
    : "the new one failed a safety check";
  return `Kept the mirror you have: ${why}`;
}

function renderStatus(r) {
  const opponent = learn.opponent;   // the latest frame's: a report's version may be older
  noteSavedAge(r, opponent);
  const plays = mirrorPlays(opponent);
  panel.noMirror.hidden = plays;
  panel.mirrorFigures.hidden = !plays;
  const figure = playingFigure(r, opponent);
  setText(panel.agreement, figure ? percent(figure.value) : "—");
  const ago = figure ? formatAgo(figure.age) : "";
  const note = figure && figure.saved ? `(from your last session${ago ? `, ${ago}` : ""})` : "";
  setText(panel.figuresNote, note);
  panel.figuresNote.hidden = !note;
  // The next mirror's figures, only while they are this session's and a mirror plays to
  // compare them with (before that, a percentage would read as the opponent's).
  const training = plays && r.figures_from === "live" && isFraction(r.agreement);
  panel.trainingLine.hidden = !training;
  if (training) {
    setText(panel.training, percent(r.agreement));
    setText(panel.approach, percent(r.approach_agreement));
  }

  const learning = pendingFresh(learn.pendingLearning) ? learn.pendingLearning.value : r.learning;
  const stopped = r.state === "stopped";
  setText(panel.state, stopped ? "stopped" : learning ? "on" : "off");
  panel.state.className = learning && !stopped ? "on" : "off";
  setText(panel.kind, MODEL_NAMES[r.architecture] || r.architecture || "—");
  setText(panel.moves, mirrorMoves(r, plays));
  const learned = learnedFrom(r);
  setText(panel.frames, learned.text);
  if (panel.frames.title !== learned.title) panel.frames.title = learned.title;

  const rate = r.samples_per_second;
  setText(panel.samples, typeof rate === "number" && rate > 0
    ? `Practising on ${formatCount(rate)} samples/s`
    : learning ? "Practising: waiting for more of your play" : "Practising: paused");

  // A refusal is news only until a newer mirror is taken (the server then sends null).
  const rejected = r.last_rejection ? r.rejected || 0 : 0;
  panel.rejections.hidden = rejected === 0;
  if (rejected) {
    setText(panel.rejections,
      `${plainRejection(r.last_rejection)} (new ones turned down so far: ${rejected})`);
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
  const number = mirrorNumber(opponent);
  // A mirror plays whose number the server has not told this connection yet: a moment.
  const waiting = mirrorPlays(opponent) ? "—" : "not ready yet — still learning your moves";
  setText(panel.version, number ? `v${number}` : waiting);
  panel.version.className = number ? "ready" : "";
  const title = number
    ? `The ${ordinal(number)} mirror you have met, over all your sessions. The learner ` +
      `numbers every try (this one is its no. ${opponent.version}) and turns down those ` +
      "that are not more like you, so its own numbers skip."
    : "";
  if (panel.version.title !== title) panel.version.title = title;
}

function ordinal(n) {
  const tens = n % 100;
  const suffix = tens >= 11 && tens <= 13 ? "th" : ({ 1: "st", 2: "nd", 3: "rd" }[n % 10] || "th");
  return `${n}${suffix}`;
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

  const adapt = pendingFresh(learn.pendingAdapt) ? learn.pendingAdapt.value : r.adapt !== false;
  if (!pendingFresh(learn.pendingAdapt)) learn.pendingAdapt = null;
  panel.adapt.checked = adapt;
  setText(panel.adaptFocus, adaptFocusText(adapt, r));

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

/** The three phases as the sliders name them, for the adaptation's line. */
const PHASE_WORDS = { approach: "ball coming at you", recede: "ball moving away", serve: "waiting for the serve" };

/** A shown figure moves only when the new one is this far from it: the factors wobble by a
 * few hundredths every report, and one-decimal rounding would make the line flicker. */
const FOCUS_STEADY = 0.08;
const focusShown = {};   // phase -> the value the line shows

/** What the adaptation favours now: per phase, its share of what the mirror studies over the
 * share the sliders alone would give (``adapt_focus``: 1 = as set), with the figures' age. */
function adaptFocusText(adapt, r) {
  if (!adapt) return "Off: it studies your play exactly as the settings below say.";
  if (r.adapt === false) return "Adapting to your play…";   // switched on, not yet reported
  const focus = r.adapt_focus || {};
  const shown = PHASE_WEIGHTS.filter((name) => typeof focus[name] === "number" && isFinite(focus[name]));
  if (!shown.length) return "It starts adapting once it has practised on your play.";
  for (const name of shown) {
    const before = focusShown[name];
    if (before === undefined || Math.abs(focus[name] - before) >= FOCUS_STEADY) focusShown[name] = focus[name];
  }
  const parts = shown.map((name) => `${PHASE_WORDS[name]} ×${focusShown[name].toFixed(1)}`);
  const age = typeof r.stats_age === "number" && r.stats_age >= 5 ? ` (${Math.round(r.stats_age)} s ago)` : "";
  return `Now, against your settings: ${parts.join(" · ")}${age}`;
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

  panel.adapt.addEventListener("change", (event) => {
    const on = panel.adapt.checked;
    if (page.send({ type: "sampler_adapt", on })) {
      learn.pendingAdapt = { value: on, until: performance.now() + PENDING_MS };
      if (learn.last) renderControls(learn.last);
    } else {
      panel.adapt.checked = !on;   // not connected: nothing changed
    }
  });
  panel.adapt.addEventListener("click", (event) => {
    if (event.detail > 0) setTimeout(() => panel.adapt.blur(), 0);   // keys back to the paddle
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

/*
 * Two lines, both "% like you": the mirror the player is playing (solid; the headline's
 * figure) and the next one while it practises (dashed; it may dip after a change of model
 * while the solid line, the opponent, stays). A vertical line marks each new mirror ("v3",
 * its mirror_number) and each change of model kind. Points are added only while a mirror
 * plays. Each solid step is the new mirror's own figure, measured on the moments of play
 * newest when it took over, so a step may go down even though it beat the one before on
 * the same moments.
 */
const chart = {
  plot: null,
  failed: false,
  data: [[], [], []],   // seconds since the page opened, playing mirror %, practising %
  marks: [],            // { x, label }: a new mirror or a new model kind
  drawn: [],            // { label, left, right } in css px: the labels last drawn
  lastNumber: null,
  lastArchitecture: null,

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
      scales: { x: { time: false }, "%": { auto: false, range: [0, 100] } },
      series: [
        { value: (u, v) => v == null ? "—" : clock(v, false) },
        { label: "The mirror you play", scale: "%", stroke: PALETTE.accent, width: 2, points: { show: false }, value: shownPercent },
        { label: "The next one, practising", scale: "%", stroke: PALETTE.ok, width: 1.25, dash: [4, 3], points: { show: false }, value: shownPercent },
      ],
      axes: [
        // x: minutes:seconds since this page was opened
        { ...axis, space: 50, size: 28, incrs: [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600],
          values: (u, ticks) => ticks.map((t) => clock(t, false)) },
        { ...axis, scale: "%", values: (u, ticks) => ticks.map((t) => `${t}%`), size: 48, space: 25 },
      ],
      hooks: { draw: [(u) => this.drawMarks(u)] },
    }, this.data, panel.chart);
    new ResizeObserver(() => this.fit()).observe(panel.chart);
  },

  /** A dotted vertical line for each mark in view, labelled at the top. Labels are placed
   * newest first, leftwards: one that would come closer than its own width (and a gap) to
   * the label drawn before it is skipped, so mirrors coming in quick succession show the
   * newest one's number, never a jumble. */
  drawMarks(u) {
    const { ctx, bbox } = u;
    const dpr = window.devicePixelRatio || 1;
    const gap = LABEL_GAP_PX * dpr;
    this.drawn = [];
    ctx.save();
    ctx.font = `${Math.round(10 * dpr)}px system-ui, sans-serif`;
    ctx.textBaseline = "top";
    ctx.setLineDash([2 * dpr, 3 * dpr]);
    ctx.lineWidth = dpr;
    let freeUntil = Infinity;   // the left edge of the label drawn last (to the right)
    for (const mark of [...this.marks].reverse()) {
      const x = Math.round(u.valToPos(mark.x, "x", true));
      if (x < bbox.left || x > bbox.left + bbox.width) continue;
      ctx.strokeStyle = withAlpha(PALETTE.fg, 0.45);
      ctx.beginPath();
      ctx.moveTo(x + 0.5, bbox.top);
      ctx.lineTo(x + 0.5, bbox.top + bbox.height);
      ctx.stroke();
      const width = ctx.measureText(mark.label).width;
      const flip = x + gap + width > bbox.left + bbox.width;   // no room on the right
      const start = flip ? x - gap - width : x + gap;
      if (start + width + gap > freeUntil) continue;
      ctx.fillStyle = PALETTE.fg;
      ctx.textAlign = "left";
      ctx.fillText(mark.label, start, bbox.top + 2 * dpr);
      freeUntil = start;
      this.drawn.unshift({ label: mark.label, left: start / dpr, right: (start + width) / dpr });
    }
    ctx.restore();
  },

  fit() {
    if (!this.plot) return;
    const width = Math.floor(panel.chart.clientWidth);
    if (width > 0 && width !== this.plot.width) this.plot.setSize({ width, height: CHART_HEIGHT });
  },

  push(r, opponent) {
    if (!mirrorPlays(opponent)) return;
    const now = performance.now() / 1000;   // seconds since the page was opened
    const [xs, playing, practising] = this.data;
    // A mirror restored after a restart keeps its number, so it is no new mark.
    const number = mirrorNumber(opponent);
    if (number !== null && this.lastNumber !== null && number !== this.lastNumber) {
      this.marks.push({ x: now, label: `v${number}` });
    }
    if (this.lastArchitecture !== null && r.architecture !== this.lastArchitecture) {
      this.marks.push({ x: now, label: MODEL_SHORT_NAMES[r.architecture] || String(r.architecture) });
    }
    if (number !== null) this.lastNumber = number;
    this.lastArchitecture = r.architecture;
    const figure = playingFigure(r, opponent);
    xs.push(now);
    playing.push(figure ? figure.value * 100 : null);
    practising.push(r.figures_from === "live" && isFraction(r.agreement) ? r.agreement * 100 : null);
    let drop = 0;
    while (drop < xs.length && xs[drop] < now - CHART_WINDOW_S) drop++;
    if (drop) for (const column of this.data) column.splice(0, drop);
    this.marks = this.marks.filter((mark) => mark.x >= now - CHART_WINDOW_S);
    if (this.plot) this.plot.setData(this.data);
  },

  clear() {
    for (const column of this.data) column.length = 0;
    this.marks = [];
    this.lastNumber = this.lastArchitecture = null;
    if (this.plot) this.plot.setData(this.data);
  },
};
