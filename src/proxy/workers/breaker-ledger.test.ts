// Circuit breaker limits shared by worker processes, without the processes: each worker's CircuitBreakers
// takes units through a SharedAllowance whose ledger calls are encoded as on the blocking channel, decoded
// and answered by the primary's one BreakerLedger. Envoy's limit is the whole proxy's ("This bound applies
// to the sum of connections across all workers threads",
// https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/upstream/circuit_breaking).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CircuitBreakers, type BreakerLimits } from '../upstream/circuit-breakers.js';
import { allowanceKey, SharedAllowance } from '../upstream/shared-breakers.js';
import { SharedOp, decodeSharedRequest, encodeSharedResponse } from '../wasm/shared-store-protocol.js';
import { BreakerLedger, ledgerClient } from './breaker-ledger.js';

/** A worker's channel to `ledger`, answered in process as the primary answers it; counts round trips. */
function channelTo(ledger: BreakerLedger, holder: object) {
  const calls = { n: 0 };
  const transport = {
    call(frame: Uint8Array): Uint8Array | undefined {
      calls.n++;
      const req = decodeSharedRequest(frame.subarray(4));
      assert.ok(req !== undefined);
      let num = 0;
      if (req.op === SharedOp.BREAKER_BORROW) num = ledger.borrow(holder, req.key, req.resource, req.count, req.limit);
      else if (req.op === SharedOp.BREAKER_GIVE_BACK) ledger.giveBack(holder, req.key, req.resource, req.count);
      else assert.fail(`unexpected op ${req.op}`);
      return encodeSharedResponse({ status: 0, num, data: new Uint8Array(0) }).subarray(4);
    },
  };
  return { client: ledgerClient(transport), calls };
}

function workers(limits: BreakerLimits, n = 2) {
  const ledger = new BreakerLedger();
  const key = allowanceKey('outbound|80||svc', limits);
  const ws = Array.from({ length: n }, () => {
    const holder = {};
    const ch = channelTo(ledger, holder);
    return { holder, calls: ch.calls, breakers: new CircuitBreakers(limits, undefined, undefined, new SharedAllowance(key, limits, n, ch.client)) };
  });
  return { ledger, key, ws };
}

const SMALL: BreakerLimits = { connections: 1, pending: 1, requests: 3, retries: 2 };

describe('circuit breaker limits shared by worker processes', () => {
  it('a limit caps the whole proxy: what one worker holds another cannot take, and gets once it is returned', () => {
    const { ws, ledger, key } = workers(SMALL);
    const [a, b] = ws as [(typeof ws)[0], (typeof ws)[0]];
    assert.deepEqual([a.breakers.tryAcquire('requests'), b.breakers.tryAcquire('requests'), b.breakers.tryAcquire('requests')], [true, true, true]);
    assert.equal(a.breakers.tryAcquire('requests'), false, 'the fourth request overflows on either worker');
    assert.equal(b.breakers.tryAcquire('requests'), false);
    assert.equal(a.breakers.isOpen('requests'), true, 'rq_open shows the proxy-wide breaker open');
    assert.equal(ledger.held(key, 2), 3);
    b.breakers.release('requests');
    assert.equal(a.breakers.tryAcquire('requests'), true, 'a unit another worker returned');
    assert.equal(a.breakers.isOpen('requests'), false);
    assert.equal(ledger.held(key, 2), 3);
  });

  it('small limits keep nothing idle: sequential requests alternating between workers never overflow (maxConnections: 1)', () => {
    const { ws } = workers(SMALL);
    for (let i = 0; i < 10; i++) {
      const w = ws[i % 2] as (typeof ws)[0];
      assert.equal(w.breakers.tryAcquire('connections'), true, `request ${i}`);
      w.breakers.release('connections');
    }
  });

  it('large limits are borrowed in batches: a worker asks the primary about once per floor(L/32N)+1 requests', () => {
    const limits: BreakerLimits = { connections: 1024, pending: 1024, requests: 1024, retries: 3 };
    const { ws, ledger, key } = workers(limits);
    const a = ws[0] as (typeof ws)[0];
    for (let i = 0; i < 170; i++) assert.equal(a.breakers.tryAcquire('requests'), true);
    // keep = floor(1024 / 64) = 16, so 17 units a borrow: 170 requests in flight took 10 round trips.
    assert.equal(a.calls.n, 10);
    assert.equal(ledger.held(key, 2), 170);
    for (let i = 0; i < 170; i++) a.breakers.release('requests');
    // Idle units go back once more than 2 × keep are idle, down to keep.
    assert.ok(ledger.held(key, 2) <= 32, `held ${ledger.held(key, 2)}`);
    const before = a.calls.n;
    for (let i = 0; i < 100; i++) {
      a.breakers.tryAcquire('requests');
      a.breakers.release('requests');
    }
    assert.equal(a.calls.n, before, 'one request at a time runs on the units kept: no round trips');
  });

  it('Istio’s unset limits (2^32 - 1) and retry budgets stay per worker, with no round trips', () => {
    const huge = 4294967295;
    const { ws } = workers({ connections: huge, pending: huge, requests: huge, retries: huge, retryBudget: { budgetPercent: 20, minRetryConcurrency: 3 } });
    const a = ws[0] as (typeof ws)[0];
    for (let i = 0; i < 50; i++) {
      assert.equal(a.breakers.tryAcquire('requests'), true);
      assert.equal(a.breakers.tryAcquire('connections'), true);
    }
    assert.deepEqual([a.breakers.tryAcquire('retries'), a.breakers.tryAcquire('retries')], [true, true]);
    assert.equal(a.calls.n, 0);
  });

  it('a worker that exits gives back everything it held', () => {
    const { ws, ledger, key } = workers(SMALL);
    const [a, b] = ws as [(typeof ws)[0], (typeof ws)[0]];
    for (let i = 0; i < 3; i++) a.breakers.tryAcquire('requests');
    assert.equal(b.breakers.tryAcquire('requests'), false);
    ledger.drop(a.holder);
    assert.equal(ledger.held(key, 2), 0);
    assert.equal(b.breakers.tryAcquire('requests'), true);
  });

  it('a replaced cluster hands back its idle units at once and the rest as its requests end', () => {
    const limits: BreakerLimits = { connections: 1024, pending: 1024, requests: 1024, retries: 3 };
    const { ws, ledger, key } = workers(limits);
    const a = ws[0] as (typeof ws)[0];
    a.breakers.tryAcquire('requests');
    a.breakers.tryAcquire('requests');
    assert.equal(ledger.held(key, 2), 17);
    a.breakers.close();
    assert.equal(ledger.held(key, 2), 2, 'the two in flight');
    a.breakers.release('requests');
    a.breakers.release('requests');
    assert.equal(ledger.held(key, 2), 0);
  });

  it('the ledger never hands out more than the limit, nor takes back more than a worker holds', () => {
    const ledger = new BreakerLedger();
    const [x, y] = [{}, {}];
    assert.deepEqual([ledger.borrow(x, 'k', 0, 5, 7), ledger.borrow(y, 'k', 0, 5, 7), ledger.borrow(y, 'k', 0, 5, 7)], [5, 2, 0]);
    ledger.giveBack(y, 'k', 0, 10);
    assert.equal(ledger.held('k', 0), 5);
    ledger.giveBack({}, 'k', 0, 3);
    assert.equal(ledger.held('k', 0), 5);
    assert.equal(ledger.held('k', 1), 0, 'resources are counted apart');
  });
});
