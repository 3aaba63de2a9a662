// One request's state for the previous_priorities retry priority (Envoy's PreviousPrioritiesRetryPriority,
// source/extensions/retry/priority/previous_priorities/previous_priorities.cc), which Istio configures for a
// VirtualService retry with `retryRemoteLocalities` (update_frequency 2): the priority of each attempted host
// is recorded, and from the update_frequency-th attempt on the priorities of the attempts so far, counted
// in whole multiples of update_frequency, are left out of the next pick. With 2: the first two attempts use
// the normal loads, the third and fourth leave out the levels of the first two, the fifth and sixth those
// of the first four. When every level with hosts is left out, the normal loads apply (loadsExcluding).

export class PreviousPriorities {
  readonly #attempted: number[] = [];

  constructor(readonly updateFrequency: number) {}

  /** An attempt went to a host of this priority level. */
  attempted(priority: number): void {
    this.#attempted.push(priority);
  }

  /** The levels the next pick leaves out (index = priority), or undefined for the normal loads. */
  excluded(): readonly boolean[] | undefined {
    const n = this.#attempted.length;
    if (n < this.updateFrequency) return undefined;
    const upto = n - (n % this.updateFrequency);
    const out: boolean[] = [];
    for (let i = 0; i < upto; i++) out[this.#attempted[i] as number] = true;
    return out;
  }
}
