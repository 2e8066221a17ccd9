/*
 * Mirror Pong — what both pages' scripts share besides the court (that is ./court.js): the
 * live game (app.js, learning_panel.js) and the replay viewer (replay.js, replay_strips.js)
 * import it from here.
 *
 * What lives here:
 *   - PALETTE        the scripts' copy of common.css's palette (:root) and replay.css's
 *                    overlay colours, for what they draw on canvases; withAlpha(hex, a)
 *   - SNAP_DISTANCE  a ball jump longer than this is a new point, not motion
 *   - DOM helpers    $ (an element by id) and setText (writes only a changed text)
 *   - formatters     percent (0.83 -> "83%") and clock (seconds -> "m:ss.t" or "m:ss")
 */

export const PALETTE = {
  fg: "#e6edf3",          // --fg
  dim: "#8b949e",         // --dim
  ok: "#3fb950",          // --ok; also the replay's model versions (--versions)
  warn: "#d29922",        // --warn
  accent: "#79c0ff",      // --accent; also the replay's ghost paddle (--ghost)
  orange: "#f0883e",      // the replay's disagreements (--disagree)
  purple: "#a371f7",      // the replay's relevance (--relevance)
};

/** A "#rrggbb" colour with an alpha, as "rgba(r, g, b, alpha)". */
export function withAlpha(hex, alpha) {
  const v = parseInt(hex.slice(1), 16);
  return `rgba(${(v >> 16) & 255}, ${(v >> 8) & 255}, ${v & 255}, ${alpha})`;
}

export const SNAP_DISTANCE = 0.3;   // court units

// ---- DOM helpers -------------------------------------------------------------------------

export const $ = (id) => document.getElementById(id);

/** Sets a node's text only when it differs, so an unchanged readout costs no layout. */
export function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}

// ---- formatters --------------------------------------------------------------------------

/** A fraction in [0, 1] as a whole percentage ("83%"), or "—" for anything not a number. */
export const percent = (x) => (typeof x === "number" && isFinite(x) ? `${Math.round(x * 100)}%` : "—");

/** Seconds as "m:ss.t" (tenths, rounded down) or, with tenths = false, "m:ss" (rounded). */
export function clock(seconds, tenths = true) {
  const s = Math.max(0, seconds);
  if (!tenths) {
    const whole = Math.round(s);
    return `${Math.floor(whole / 60)}:${String(whole % 60).padStart(2, "0")}`;
  }
  const t = Math.floor(s * 10 + 1e-6);
  const m = Math.floor(t / 600);
  const sec = Math.floor((t % 600) / 10);
  return `${m}:${String(sec).padStart(2, "0")}.${t % 10}`;
}
