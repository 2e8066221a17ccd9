/*
 * Mirror Pong — the "you vs your mirror" card shown after a match (#match-card, over the
 * court on wide screens, a sheet at the bottom of the screen on narrow ones).
 *
 * The learner's report carries `match_card`: null, or the latest finished match's
 * { id, opponent, you: F, mirror: F } with F = { reaction_s, meet_offset, miss_rate, wait_y,
 * meets } (see learner/live.py). A card with an id not shown yet appears, with four rows in
 * a player's words (you beside the opponent) and a picture of where each met the ball along
 * the paddle; it goes away when closed (× or Escape) or when the next match starts. A card is
 * shown only while its match is still on the screen (the "match over" overlay): the one in
 * the first report after connecting may belong to an earlier match, and one that reaches the
 * page after the player has started the next match would cover the court.
 *
 * What lives here: startMatchCard (the entry: app.js feeds it reports and frames), the
 * rows' wording, the card's DOM, and the meeting picture (two little histograms along a
 * paddle drawn on a canvas).
 */

import { $, PALETTE, percent, setText, withAlpha } from "./shared.js";

const MEET_BINS = 12;            // the picture's bars along the paddle, edge to edge
const PICTURE_HEIGHT = 74;       // css px

/** The rows, top to bottom: the label (about the player) and how a value reads. */
const ROWS = [
  { key: "reaction_s", label: "How soon you move when the ball turns", format: seconds },
  { key: "meet_offset", label: "Where you meet the ball", format: meetWords },
  { key: "miss_rate", label: "How often you miss", format: (x) => percent(x) },
  { key: "wait_y", label: "Where you wait", format: waitWords },
];

const known = (x) => typeof x === "number" && isFinite(x);

function seconds(x) {
  return known(x) ? `${x.toFixed(2)} s` : "—";
}

/** 0 = the paddle's centre .. 1 = its end. */
function meetWords(x) {
  if (!known(x)) return "—";
  if (x < 0.2) return "right in the centre";
  if (x < 0.45) return "near the centre";
  if (x < 0.7) return "halfway out";
  return "near the end";
}

/** 0 = top of the court .. 1 = bottom. */
function waitWords(y) {
  if (!known(y)) return "—";
  if (y < 0.2) return "near the top";
  if (y < 0.4) return "above the middle";
  if (y <= 0.6) return "in the middle";
  if (y <= 0.8) return "below the middle";
  return "near the bottom";
}

// ---- the entry ---------------------------------------------------------------------------

/**
 * Builds the card in #match-card and returns what app.js calls:
 *   onHello()                  a new connection: its first report decides as above
 *   onReport(report, frame)    each learner report, with the frame it came in
 *   onFrame(frame, previous)   each frame: a new match hides the card
 */
export function startMatchCard() {
  const card = buildCard($("match-card"));
  let shownId = undefined;   // the newest card id seen (null: none yet); undefined before a report
  let shownCard = null;

  function show(data) {
    shownCard = data;
    fillCard(card, data);
    card.root.hidden = false;
    card.root.parentElement.classList.add("with-card");
    drawMeets(card.canvas, data);
  }

  function hide() {
    if (card.root.hidden) return;
    card.root.hidden = true;
    card.root.parentElement.classList.remove("with-card");
    shownCard = null;
  }

  card.close.addEventListener("click", (event) => {
    hide();
    if (event.detail > 0) card.close.blur();   // the keys go back to the game
  });
  window.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !card.root.hidden) hide();
  });
  new ResizeObserver(() => { if (shownCard) drawMeets(card.canvas, shownCard); }).observe(card.canvas);

  return {
    onHello() {
      shownId = undefined;
      hide();
    },
    onReport(report, frame) {
      const data = report.match_card;
      const id = data && typeof data.id === "number" ? data.id : null;
      const first = shownId === undefined;
      if (id === null || id === shownId) {
        if (first) shownId = null;
        return;
      }
      shownId = id;
      // Only over its match's "match over" screen: the first report's card may be an earlier
      // match's, and a card that comes (half a second late, with a report) after the player
      // has already started the next match would cover the court they play on.
      if (!(frame && frame.winner)) return;
      show(data);
    },
    onFrame(frame, previous) {
      if (!previous || card.root.hidden) return;
      const newMatch = (previous.winner && !frame.winner) ||
        frame.score[0] + frame.score[1] < previous.score[0] + previous.score[1];
      if (newMatch) hide();
    },
  };
}

// ---- the card's DOM ----------------------------------------------------------------------

function buildCard(root) {
  root.innerHTML = `
    <header class="card-head">
      <h2 class="card-title">You vs your mirror</h2>
      <button type="button" class="card-close" aria-label="Close" title="Close (Esc)">×</button>
    </header>
    <table class="card-rows">
      <thead><tr><th></th><th scope="col">You</th><th scope="col" class="them">Mirror</th></tr></thead>
      <tbody></tbody>
    </table>
    <figure class="card-picture">
      <canvas aria-label="Where each of you met the ball along the paddle"></canvas>
      <figcaption>Where the ball met each paddle (top end … bottom end)</figcaption>
    </figure>`;
  const body = root.querySelector("tbody");
  const cells = {};
  for (const row of ROWS) {
    const tr = document.createElement("tr");
    tr.dataset.row = row.key;
    tr.innerHTML = `<th scope="row"></th><td class="you"></td><td class="them"></td>`;
    tr.querySelector("th").textContent = row.label;
    body.appendChild(tr);
    cells[row.key] = { you: tr.querySelector(".you"), them: tr.querySelector(".them") };
  }
  return {
    root,
    title: root.querySelector(".card-title"),
    themHead: root.querySelector("thead .them"),
    close: root.querySelector(".card-close"),
    canvas: root.querySelector("canvas"),
    cells,
  };
}

function fillCard(card, data) {
  const mirror = data.opponent !== "scripted";
  const them = mirror ? "Mirror" : "Scripted";
  setText(card.title, mirror ? "You vs your mirror" : "You vs the scripted opponent");
  card.root.setAttribute("aria-label", card.title.textContent);
  setText(card.themHead, them);
  for (const row of ROWS) {
    const you = (data.you || {})[row.key];
    const other = (data.mirror || {})[row.key];
    setText(card.cells[row.key].you, row.format(you));
    setText(card.cells[row.key].them, row.format(other));
    card.cells[row.key].you.title = known(you) ? String(Math.round(you * 1000) / 1000) : "";
    card.cells[row.key].them.title = known(other) ? String(Math.round(other * 1000) / 1000) : "";
  }
}

// ---- the meeting picture -----------------------------------------------------------------

/** Counts of signed meeting offsets (-1 = the paddle's top end .. 1 = its bottom end). */
function histogram(meets) {
  const counts = new Array(MEET_BINS).fill(0);
  for (const m of Array.isArray(meets) ? meets : []) {
    if (!known(m)) continue;
    const bin = Math.min(MEET_BINS - 1, Math.max(0, Math.floor((m + 1) / 2 * MEET_BINS)));
    counts[bin]++;
  }
  return counts;
}

/**
 * Two paddles lying along the picture, the player's above and the opponent's below, each
 * with bars standing out of it where the ball met it (taller = more often); the centre of
 * the paddle is marked. Both use one scale, so the two can be compared bar for bar.
 */
function drawMeets(canvas, data) {
  const width = Math.floor(canvas.clientWidth);
  if (width <= 0) return;
  const dpr = window.devicePixelRatio || 1;
  canvas.style.height = `${PICTURE_HEIGHT}px`;
  canvas.width = Math.round(width * dpr);
  canvas.height = Math.round(PICTURE_HEIGHT * dpr);
  const ctx = canvas.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, width, PICTURE_HEIGHT);

  const strips = [
    { name: "You", meets: (data.you || {}).meets, color: PALETTE.fg },
    { name: data.opponent === "scripted" ? "Scripted" : "Mirror", meets: (data.mirror || {}).meets, color: PALETTE.accent },
  ].map((strip) => ({ ...strip, counts: histogram(strip.meets) }));
  const most = Math.max(1, ...strips.flatMap((strip) => strip.counts));

  const labelW = 52;
  const left = labelW, right = width - 4;
  const span = right - left;
  const stripH = PICTURE_HEIGHT / 2;
  const barMax = stripH - 12;
  ctx.font = "11px system-ui, sans-serif";
  ctx.textBaseline = "middle";

  strips.forEach((strip, i) => {
    const paddleY = (i + 1) * stripH - 6;          // the paddle lies along the strip's foot
    ctx.fillStyle = PALETTE.dim;
    ctx.textAlign = "left";
    ctx.fillText(strip.name, 0, paddleY - barMax / 2);
    const total = strip.counts.reduce((a, b) => a + b, 0);
    if (!total) {
      ctx.fillText("no hits", left + 4, paddleY - barMax / 2);
    }
    const binW = span / MEET_BINS;
    ctx.fillStyle = withAlpha(strip.color, 0.85);
    strip.counts.forEach((count, bin) => {
      if (!count) return;
      const h = Math.max(2, (count / most) * barMax);
      ctx.fillRect(left + bin * binW + 1, paddleY - 2 - h, Math.max(1, binW - 2), h);
    });
    ctx.fillStyle = withAlpha(strip.color, 0.5);
    ctx.fillRect(left, paddleY, span, 4);           // the paddle
    ctx.fillStyle = PALETTE.fg;
    ctx.fillRect(left + span / 2 - 0.5, paddleY + 4, 1, 4);   // its centre, a tick below
  });
}
