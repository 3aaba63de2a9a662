// A bounded ring of (timestamp ms, value) samples, oldest first, for one series. Memory grows by
// doubling up to `capacity` and never beyond: when full, a new sample overwrites the oldest.
// Timestamps are expected in increasing order (one scrape after another); an out-of-order sample is dropped.

export class SampleRing {
  #t: Float64Array;
  #v: Float64Array;
  #start = 0;
  #length = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 2) throw new RangeError(`sample ring capacity must be an integer >= 2, got ${capacity}`);
    const initial = Math.min(capacity, 8);
    this.#t = new Float64Array(initial);
    this.#v = new Float64Array(initial);
  }

  get length(): number {
    return this.#length;
  }

  /** Newest timestamp, or -Infinity when empty. */
  get lastTime(): number {
    return this.#length === 0 ? -Infinity : (this.#t[(this.#start + this.#length - 1) % this.#t.length] ?? -Infinity);
  }

  push(t: number, v: number): void {
    if (t <= this.lastTime) return;
    if (this.#length === this.#t.length && this.#t.length < this.capacity) this.#grow();
    const size = this.#t.length;
    if (this.#length === size) {
      this.#t[this.#start] = t;
      this.#v[this.#start] = v;
      this.#start = (this.#start + 1) % size;
      return;
    }
    const at = (this.#start + this.#length) % size;
    this.#t[at] = t;
    this.#v[at] = v;
    this.#length++;
  }

  /** Drops samples older than `t` (strictly before it). */
  dropBefore(t: number): void {
    const size = this.#t.length;
    while (this.#length > 0 && (this.#t[this.#start] ?? Infinity) < t) {
      this.#start = (this.#start + 1) % size;
      this.#length--;
    }
  }

  /** Calls `fn` for each sample with from <= t <= to, oldest first. */
  forEachIn(from: number, to: number, fn: (t: number, v: number) => void): void {
    const size = this.#t.length;
    for (let k = 0; k < this.#length; k++) {
      const i = (this.#start + k) % size;
      const t = this.#t[i] ?? NaN;
      if (t < from) continue;
      if (t > to) return;
      fn(t, this.#v[i] ?? NaN);
    }
  }

  #grow(): void {
    const size = Math.min(this.capacity, this.#t.length * 2);
    const t = new Float64Array(size);
    const v = new Float64Array(size);
    for (let k = 0; k < this.#length; k++) {
      const i = (this.#start + k) % this.#t.length;
      t[k] = this.#t[i] ?? NaN;
      v[k] = this.#v[i] ?? NaN;
    }
    this.#t = t;
    this.#v = v;
    this.#start = 0;
  }
}
