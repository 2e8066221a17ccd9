/*
 * Mirror Pong — the court as both pages draw it: the live game (app.js) and the replay
 * viewer (replay.js) import it from here, so the two always look the same.
 *
 * What lives here:
 *   - COURT_COLORS  the court's palette (background, centre line, paddles, ball, score
 *                   digits and labels, the paddle's hit flash)
 *   - DIGITS        classic blocky score digits, 3 x 5 cells each
 *   - lerp, mix     number and colour interpolation
 *   - sizing        fitCourt (the largest rectangle of the court's aspect ratio in a space)
 *                   and sizeCourt (the box's css size and the canvas's backing pixels)
 *   - drawing       drawCourt (background and dashed centre line, then court units),
 *                   drawScore (digits and labels, optionally flashing), drawPaddles
 *                   (optionally glowing) and drawBall
 *
 * `court` is { width, height, paddle_inset, paddle_half_height, ball_radius } in court
 * units; everything draws on a 2D context whose canvas is the court. What only one page
 * draws (the replay's ghost paddle, the live game's flashes' timing) stays in that page.
 */

export const COURT_COLORS = {
  court: "#0d1117",
  line: "rgba(230, 237, 243, 0.22)",
  paddle: "#e6edf3",
  ball: "#ffffff",
  score: "rgba(230, 237, 243, 0.30)",
  label: "rgba(230, 237, 243, 0.28)",
  hit: "#79c0ff",                 // a paddle's flash when it hits the ball
};

// Classic blocky score digits, 3 x 5 cells each (drawn as rectangles: no font needed).
export const DIGITS = [
  "111101101101111", "110010010010111", "111001111100111", "111001111001111", "101101111001001",
  "111100111001111", "111100111101111", "111001001001001", "111101111101111", "111101111001111",
];

export const SCORE_LABELS = ["YOU", "MIRROR"];

export function lerp(a, b, t) { return a + (b - a) * t; }

/** The colour between two "#rrggbb" colours, t in [0, 1], as "rgb(r, g, b)". */
export function mix(hexA, hexB, t) {
  const a = parseInt(hexA.slice(1), 16), b = parseInt(hexB.slice(1), 16);
  const ch = (v, s) => (v >> s) & 255;
  const m = (s) => Math.round(lerp(ch(a, s), ch(b, s), t));
  return `rgb(${m(16)}, ${m(8)}, ${m(0)})`;
}

// ---- sizing ------------------------------------------------------------------------------

/** The largest rectangle of `aspect` (width / height) in availW x availH css px, floored. */
export function fitCourt(availW, availH, aspect) {
  if (!(availW > 0) || !(availH > 0)) return null;
  let w = availW, h = availW / aspect;
  if (h > availH) { h = availH; w = availH * aspect; }
  return { w: Math.floor(w), h: Math.floor(h) };
}

/** The court box takes w x h css px; the canvas gets that times the device pixel ratio. */
export function sizeCourt(box, canvas, w, h, dpr) {
  box.style.width = `${w}px`;
  box.style.height = `${h}px`;
  canvas.width = Math.round(w * dpr);
  canvas.height = Math.round(h * dpr);
}

// ---- drawing -----------------------------------------------------------------------------

/**
 * Clears the canvas to the court and draws the dashed centre line; from then on the context
 * draws in court units. Returns { scale (device px per court unit), px (one device pixel in
 * court units) }, or null while the canvas has no size.
 */
export function drawCourt(ctx, court) {
  const W = ctx.canvas.width, H = ctx.canvas.height;
  if (!W || !H) return null;
  const scale = W / court.width;                       // device pixels per court unit
  const px = 1 / scale;                                // one device pixel, in court units
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.fillStyle = COURT_COLORS.court;
  ctx.fillRect(0, 0, W, H);
  ctx.setTransform(scale, 0, 0, scale, 0, 0);          // draw in court units from here on

  // centre line, dashed
  const dash = court.height / 30;
  ctx.fillStyle = COURT_COLORS.line;
  const lineW = Math.max(2 * px, court.width * 0.004);
  for (let y = dash / 2; y < court.height; y += dash * 2) {
    ctx.fillRect(court.width / 2 - lineW / 2, y, lineW, dash);
  }
  return { scale, px };
}

/**
 * The two scores, a quarter of the way in from each side, each with its label under it.
 * glow: [left, right] in [0, 1], a point's flash (0 = the plain score colour).
 */
export function drawScore(ctx, court, score, { glow = [0, 0], labels = SCORE_LABELS } = {}) {
  // Drawn in whole device pixels, so the blocks stay sharp at any size.
  const scale = ctx.canvas.width / court.width;
  const cell = Math.max(2, Math.round(court.height * 0.026 * scale));
  const top = Math.round(court.height * 0.045 * scale);
  const labelSize = Math.max(9, Math.round(court.height * 0.028 * scale));
  ctx.save();
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  const sides = [
    [court.width * 0.25, score[0], glow[0], labels[0]],
    [court.width * 0.75, score[1], glow[1], labels[1]],
  ];
  for (const [x, value, level, label] of sides) {
    const cx = Math.round(x * scale);
    const text = String(value);
    const width = text.length * 3 * cell + (text.length - 1) * cell;
    let left = cx - Math.round(width / 2);
    ctx.fillStyle = level > 0 ? `rgba(255, 255, 255, ${0.35 + 0.65 * level})` : COURT_COLORS.score;
    for (const ch of text) {
      const pattern = DIGITS[ch.charCodeAt(0) - 48];
      if (pattern) {
        for (let i = 0; i < 15; i++) {
          if (pattern[i] === "1") ctx.fillRect(left + (i % 3) * cell, top + Math.floor(i / 3) * cell, cell, cell);
        }
      }
      left += 4 * cell;
    }
    ctx.font = `600 ${labelSize}px system-ui, "DejaVu Sans", sans-serif`;
    ctx.textAlign = "center";
    ctx.textBaseline = "top";
    ctx.fillStyle = COURT_COLORS.label;
    if ("letterSpacing" in ctx) ctx.letterSpacing = `${Math.round(labelSize * 0.25)}px`;
    ctx.fillText(label, cx, top + 5 * cell + Math.round(cell * 0.8));
    if ("letterSpacing" in ctx) ctx.letterSpacing = "0px";
  }
  ctx.restore();
}

/**
 * The paddles (in court units): thin bars between each goal line and the paddle's face,
 * centred on leftY / rightY. glow: [left, right] in [0, 1], a hit's flash.
 */
export function drawPaddles(ctx, court, leftY, rightY, glow = [0, 0]) {
  const thick = court.paddle_inset * 0.6;
  const half = court.paddle_half_height;
  const paddle = (x, y, level) => {
    ctx.fillStyle = level > 0 ? mix(COURT_COLORS.paddle, COURT_COLORS.hit, level) : COURT_COLORS.paddle;
    ctx.fillRect(x, y - half, thick, 2 * half);
  };
  paddle(court.paddle_inset - thick, leftY, glow[0]);
  paddle(court.width - court.paddle_inset, rightY, glow[1]);
}

/** The ball (in court units) at x, y; alpha < 1 dims it (e.g. while it waits for the serve). */
export function drawBall(ctx, court, x, y, alpha = 1) {
  ctx.globalAlpha = alpha;
  ctx.fillStyle = COURT_COLORS.ball;
  ctx.beginPath();
  ctx.arc(x, y, court.ball_radius, 0, Math.PI * 2);
  ctx.fill();
  ctx.globalAlpha = 1;
}
