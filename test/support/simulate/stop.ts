// How a simulation ends early: a Stop carries the SimulationError and the reason (naming the resource and
// field). Every step throws it; only simulate() catches it and turns it into Result.error/detail.

import type { SimulationError } from './types.js';

export class Stop extends Error {
  constructor(readonly kind: SimulationError, readonly why: string) {
    super(why);
  }
}
