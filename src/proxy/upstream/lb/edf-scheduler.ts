// Earliest-deadline-first scheduler for weighted round robin, as Envoy's EdfScheduler
// (source/common/upstream/edf_scheduler.h): every entry has a deadline `now + 1/weight`; a pick takes the
// entry with the earliest deadline (ties go to the one added first), advances `now` to it and re-adds the
// entry with a fresh deadline computed from its weight *at that moment* (so least-request can feed
// weights that depend on active requests). Picks are O(log n); with weights 3:1 the sequence interleaves
// smoothly (a a b a a a b ...) instead of bursting.

export class EdfScheduler<T> {
  // Binary min-heap over (deadline, order), stored as parallel arrays.
  private deadlines: number[] = [];
  private orders: number[] = [];
  private items: T[] = [];
  private now = 0;
  private nextOrder = 0;

  /**
   * Builds a scheduler over `items` and advances it `initialPicks` picks, the way Envoy's createWithPicks
   * gives each proxy a different starting point so that they do not all hit the same host first.
   */
  static create<T>(items: readonly T[], weight: (item: T) => number, initialPicks = 0): EdfScheduler<T> {
    const s = new EdfScheduler<T>();
    for (const item of items) s.add(item, weight(item));
    for (let i = 0; i < initialPicks; i++) s.pickAndAdd(weight);
    return s;
  }

  get size(): number {
    return this.items.length;
  }

  /** Adds `item` with deadline now + 1/weight. A weight of 0 or less is never picked before positive ones. */
  add(item: T, weight: number): void {
    const deadline = weight > 0 ? this.now + 1 / weight : Number.POSITIVE_INFINITY;
    this.push(deadline, this.nextOrder++, item);
  }

  /** Picks the entry with the earliest deadline and re-adds it with `weight(item)`. */
  pickAndAdd(weight: (item: T) => number): T | undefined {
    if (this.items.length === 0) return undefined;
    const item = this.items[0] as T;
    const deadline = this.deadlines[0] as number;
    this.popTop();
    if (Number.isFinite(deadline)) this.now = deadline;
    this.add(item, weight(item));
    return item;
  }

  /** The entry the next pick would return, without picking it. */
  peek(): T | undefined {
    return this.items[0];
  }

  private less(i: number, j: number): boolean {
    const di = this.deadlines[i] as number, dj = this.deadlines[j] as number;
    return di < dj || (di === dj && (this.orders[i] as number) < (this.orders[j] as number));
  }

  private swap(i: number, j: number): void {
    const d = this.deadlines[i] as number;
    this.deadlines[i] = this.deadlines[j] as number;
    this.deadlines[j] = d;
    const o = this.orders[i] as number;
    this.orders[i] = this.orders[j] as number;
    this.orders[j] = o;
    const t = this.items[i] as T;
    this.items[i] = this.items[j] as T;
    this.items[j] = t;
  }

  private push(deadline: number, order: number, item: T): void {
    this.deadlines.push(deadline);
    this.orders.push(order);
    this.items.push(item);
    let i = this.items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(i, parent)) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  private popTop(): void {
    const last = this.items.length - 1;
    this.swap(0, last);
    this.deadlines.pop();
    this.orders.pop();
    this.items.pop();
    const n = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < n && this.less(l, m)) m = l;
      if (r < n && this.less(r, m)) m = r;
      if (m === i) break;
      this.swap(i, m);
      i = m;
    }
  }
}
