/*
 * Mirror Pong — the replay viewer's timeline strips, the canvases under the scrub bar:
 *   - disagreement  the fraction of ticks where the mirror would have moved differently,
 *                   per pixel, as bar height and strength
 *   - relevance     the learner's mean weight per pixel, normalised by this recording's
 *                   largest bin
 *   - versions      a mark and a label vN where the opponent's model version changed
 *
 * Pure drawing: replay.js hands in the canvases and what to show (the analysis, the version
 * changes, the horizontal inset that lines the strips up with the scrub bar's thumb) and
 * keeps the images built here until the data or the size changes; each animation frame
 * then paints an image and the playback cursor. Sizes and the inset are in device pixels.
 */

import { PALETTE, withAlpha } from "./shared.js";

const STRIP_COLORS = {
  disagree: PALETTE.orange,
  relevance: PALETTE.purple,
  versions: PALETTE.ok,
  versionLabel: "#aff5b4",
  cursor: withAlpha(PALETTE.fg, 0.9),
  empty: withAlpha(PALETTE.dim, 0.55),
};

/** The x (device px) of record `index` on a strip `width` wide of a recording of `ticks` records. */
export function indexToX(index, ticks, width, inset) {
  const span = Math.max(1, ticks - 1);
  return inset + (index / span) * (width - 2 * inset);
}

/** Where a pointer at clientX falls along a strip (its css box `rect`), in [0, 1]. */
export function stripFraction(clientX, rect, cssInset) {
  const f = (clientX - rect.left - cssInset) / Math.max(1, rect.width - 2 * cssInset);
  return Math.min(1, Math.max(0, f));
}

/** Per-pixel bins of `values` (one per record, the first `ticks` count) in `bins`: the mean of each. */
export function binMeans(values, ticks, bins) {
  const n = Math.min(values.length, ticks);
  const sums = new Float64Array(bins), counts = new Float64Array(bins);
  if (!n) return { means: sums.fill(NaN), counts };
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (typeof v !== "number" || !isFinite(v)) continue;
    const b = Math.min(bins - 1, Math.floor((i / Math.max(1, n)) * bins));
    sums[b] += v;
    counts[b] += 1;
  }
  for (let b = 0; b < bins; b++) sums[b] = counts[b] ? sums[b] / counts[b] : NaN;
  return { means: sums, counts };
}

/**
 * The three strips' images, each the size of its canvas in `strips` ({ disagree, relevance,
 * versions }). `view`:
 *   ready           a recording with records is loaded (otherwise the images stay blank)
 *   ticks           records in it
 *   analysis        the /analysis answer (disagree, relevance, model), or null
 *   analysisState   "none" | "loading" | "ready" | "error", for the empty strips' words
 *   versionChanges  [{ index, version }] from the recording's header
 *   inset, dpr      the strips' horizontal inset and the device pixel ratio
 */
export function buildStripImages(strips, view) {
  return {
    disagree: disagreementImage(newImage(strips.disagree), view),
    relevance: relevanceImage(newImage(strips.relevance), view),
    versions: versionsImage(newImage(strips.versions), view),
  };
}

/**
 * Clears `strip` and paints `image` on it when `on` (and the image is still the strip's
 * size), then the playback cursor at record `cursor` (null: none).
 */
export function paintStrip(strip, image, { on, cursor, ticks, inset, dpr }) {
  const g = strip.getContext("2d");
  const w = strip.width, h = strip.height;
  g.clearRect(0, 0, w, h);
  if (on && image && image.width === w && image.height === h) g.drawImage(image, 0, 0);
  if (cursor !== null) {
    const x = indexToX(cursor, ticks, w, inset);
    g.fillStyle = STRIP_COLORS.cursor;
    const cw = Math.max(1, Math.round(dpr));
    g.fillRect(Math.round(x - cw / 2), 0, cw, h);
  }
}

function newImage(strip) {
  const image = document.createElement("canvas");
  image.width = strip.width;
  image.height = strip.height;
  return image;
}

function emptyStrip(g, h, inset, text) {
  g.fillStyle = STRIP_COLORS.empty;
  g.font = `${Math.round(h * 0.6)}px system-ui, "DejaVu Sans", sans-serif`;
  g.textBaseline = "middle";
  g.textAlign = "left";
  g.fillText(text, inset, h / 2 + 0.5);
}

/** The fraction of disagreeing ticks per pixel, as bar height and strength. */
function disagreementImage(image, { ready, ticks, analysis: a, analysisState, inset }) {
  const g = image.getContext("2d");
  const w = image.width, h = image.height;
  const bins = Math.max(1, Math.round(w - 2 * inset));
  if (ready && a && Array.isArray(a.disagree)) {
    const { means } = binMeans(a.disagree, ticks, Math.min(bins, ticks));
    const bw = (w - 2 * inset) / means.length;
    for (let b = 0; b < means.length; b++) {
      const f = means[b];
      if (!(f > 0)) continue;
      g.fillStyle = STRIP_COLORS.disagree;
      g.globalAlpha = 0.35 + 0.65 * Math.min(1, f);
      const bh = Math.max(1, Math.round(f * h));
      g.fillRect(inset + b * bw, h - bh, Math.max(1, bw), bh);
    }
    g.globalAlpha = 1;
  } else if (ready) {
    emptyStrip(g, h, inset, analysisState === "loading" ? "analysing…"
      : a && !a.model ? "no mirror model" : analysisState === "error" ? "unavailable" : "");
  }
  return image;
}

/** The mean weight per pixel, normalised by this recording's largest bin. */
function relevanceImage(image, { ready, ticks, analysis: a, analysisState, inset }) {
  const g = image.getContext("2d");
  const w = image.width, h = image.height;
  const bins = Math.max(1, Math.round(w - 2 * inset));
  if (ready && a && Array.isArray(a.relevance) && a.relevance.length) {
    const { means } = binMeans(a.relevance, ticks, Math.min(bins, ticks));
    let max = 0;
    for (const m of means) if (m > max) max = m;
    const bw = (w - 2 * inset) / means.length;
    g.fillStyle = STRIP_COLORS.relevance;
    if (max > 0) {
      for (let b = 0; b < means.length; b++) {
        const f = means[b] / max;
        if (!(f > 0)) continue;
        const bh = Math.max(1, Math.round(f * h));
        g.fillRect(inset + b * bw, h - bh, Math.max(1, bw), bh);
      }
    }
  } else if (ready) {
    emptyStrip(g, h, inset, analysisState === "loading" ? "analysing…"
      : analysisState === "error" ? "unavailable" : "");
  }
  return image;
}

/** A mark and a label vN where the opponent's version changed (labels never overlap). */
function versionsImage(image, { ready, ticks, versionChanges: changes, inset, dpr }) {
  const g = image.getContext("2d");
  const w = image.width, h = image.height;
  g.font = `600 ${Math.round(10.5 * dpr)}px ui-monospace, "DejaVu Sans Mono", monospace`;
  g.textBaseline = "middle";
  g.textAlign = "left";
  let labelEnd = -Infinity;
  const firstChange = changes.length ? Number(changes[0].index) || 0 : Infinity;
  if (ready && firstChange > 0) {
    // Before the first change the opponent was version 0 (scripted): a label, no mark,
    // where it leaves room for the first change's own label.
    const label = changes.length ? "v0" : "v0 throughout (no model change)";
    const room = changes.length ? indexToX(firstChange, ticks, w, inset) - inset : w;
    if (g.measureText(label).width + 10 * dpr < room) {
      g.fillStyle = STRIP_COLORS.empty;
      g.fillText(label, inset + 3 * dpr, h / 2 + 0.5);
    }
  }
  if (ready && changes.length) {
    for (const change of changes) {
      const x = Math.round(indexToX(Number(change.index) || 0, ticks, w, inset));
      g.fillStyle = STRIP_COLORS.versions;
      g.fillRect(x - Math.round(dpr / 2), 0, Math.max(1, Math.round(1.5 * dpr)), h);
      const label = `v${change.version}`;
      const lw = g.measureText(label).width;
      let lx = x + 3 * dpr;
      if (lx + lw > w) lx = x - 3 * dpr - lw;
      if (lx > labelEnd + 4 * dpr) {
        g.fillStyle = STRIP_COLORS.versionLabel;
        g.fillText(label, lx, h / 2 + 0.5);
        labelEnd = lx + lw;
      }
    }
  }
  return image;
}
