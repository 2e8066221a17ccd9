/*
 * Mirror Pong — the replay viewer's records of one recording, in chunks (replay.js holds one
 * ChunkCache per recording it shows).
 *
 * Records come in chunks of CHUNK (one /ticks?start=&count= answer each: columns of equal
 * length, one entry per record) fetched on demand; beyond CACHE_CHUNKS the least recently
 * used chunk is dropped (never the one being shown, nor the next). A chunk whose fetch failed
 * is asked for again only after RETRY_MS, so a broken server is not hammered every frame.
 * Seeking anywhere in a long recording so costs one request, and nothing is fetched up front.
 *
 * The cache knows no page: it fetches through the function it is given, tells of a chunk
 * that came (or failed) through a callback, and asks the page where playback is.
 */

export const CHUNK = 1800;          // records per /ticks request (the API allows up to 3600)
export const CACHE_CHUNKS = 12;     // chunks kept (12 x 1800 = 6 minutes of play)
export const RETRY_MS = 2000;       // a chunk whose fetch failed is asked for again after this

/** Chunks of records of one recording, fetched on demand, least recently used dropped. */
export class ChunkCache {
  /**
   * total           records in the recording
   * fetchChunk(start, count)  a promise of the columns of records start … start + count - 1
   * onChange()      a chunk came, failed, or may be asked for again: time to redraw
   * position()      the (fractional) record index shown now: its chunk and the next are kept
   */
  constructor({ total, fetchChunk, onChange, position }) {
    this.total = total;
    this.fetchChunk = fetchChunk;
    this.onChange = onChange;
    this.position = position;
    this.closed = false;        // the page moved on: answers still in flight are dropped
    this.ready = new Map();     // chunk number -> columns (Map order = least recently used first)
    this.pending = new Map();   // chunk number -> promise
    this.failed = null;         // the last fetch error, shown while it matters
    this.failedAt = new Map();  // chunk number -> when its fetch failed (retried after RETRY_MS)
  }

  /** The page shows another recording now: what is still in flight is dropped when it comes. */
  close() { this.closed = true; }

  chunkOf(index) { return Math.floor(index / CHUNK); }

  /** The columns of the chunk holding `index`, or null (and a fetch starts). */
  columns(index) {
    const n = this.chunkOf(index);
    const cols = this.ready.get(n);
    if (cols) {
      this.ready.delete(n);     // touch: most recently used
      this.ready.set(n, cols);
      return cols;
    }
    this.ensure(n);
    return null;
  }

  /** Chunk n's columns (a promise): from the cache, the fetch under way, or a new fetch. */
  ensure(n) {
    if (n < 0 || n * CHUNK >= this.total) return Promise.resolve(null);
    if (this.ready.has(n)) return Promise.resolve(this.ready.get(n));
    if (this.pending.has(n)) return this.pending.get(n);
    const failedAt = this.failedAt.get(n);
    if (failedAt !== undefined && performance.now() - failedAt < RETRY_MS) {
      const again = Promise.reject(this.failed);
      again.catch(() => {});    // callers that only want the fetch started ignore it
      return again;
    }
    const start = n * CHUNK;
    const count = Math.min(CHUNK, this.total - start);
    const promise = this.fetchChunk(start, count).then((cols) => {
      this.pending.delete(n);
      if (this.closed) return null;
      if (!Array.isArray(cols.ball_x) || cols.ball_x.length === 0) {
        throw new Error(`the server sent no records for ${start}…${start + count - 1}`);
      }
      this.ready.set(n, cols);
      this.failed = null;
      this.failedAt.delete(n);
      this.evict(n);
      this.onChange();
      return cols;
    }, (err) => {
      this.pending.delete(n);
      if (!this.closed) {
        this.failed = err;
        this.failedAt.set(n, performance.now());
        setTimeout(() => this.onChange(), RETRY_MS + 50);   // the next draw asks again
        this.onChange();
      }
      throw err;
    });
    this.pending.set(n, promise);
    promise.catch(() => {});    // failures are shown via this.failed
    return promise;
  }

  evict(keep) {
    const current = this.chunkOf(Math.floor(this.position()));
    for (const n of this.ready.keys()) {
      if (this.ready.size <= CACHE_CHUNKS) break;
      if (n !== keep && n !== current && n !== current + 1) this.ready.delete(n);
    }
  }

  /** One record as an object, or null while its chunk is not here. */
  row(index) {
    if (index < 0 || index >= this.total) return null;
    const cols = this.columns(index);
    if (!cols) return null;
    const i = index - cols.start;
    if (i < 0 || i >= cols.ball_x.length) return null;
    return {
      index,
      tick: cols.tick[i],
      ball_x: cols.ball_x[i],
      ball_y: cols.ball_y[i],
      left_y: cols.left_y[i],
      right_y: cols.right_y[i],
      score_left: cols.score_left[i],
      score_right: cols.score_right[i],
      left_cmd: cols.left_cmd ? cols.left_cmd[i] : 0,
      right_cmd: cols.right_cmd ? cols.right_cmd[i] : 0,
      model_version: cols.model_version ? cols.model_version[i] : 0,
      serving: cols.serving ? !!cols.serving[i] : false,
    };
  }
}
