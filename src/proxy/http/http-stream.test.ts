import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { HELD_BODY_WATERMARK, type EncodeHeadHook, type HeaderMap, type HttpStream } from './http-stream.js';
import { testStream, type StreamEvent } from '../../../test/support/http-stream.js';

/** A stream over a response that records what reached the downstream, in order. */
function stream(): { s: HttpStream; events: StreamEvent[]; reset: () => void } {
  const { s, events, reset } = testStream();
  return { s, events, reset };
}

/** An encode hook that tags the head with `name` and holds it the first time when `stop`. */
function hook(name: string, order: string[], stop: boolean): EncodeHeadHook {
  let stopped = false;
  return (_status, h) => {
    order.push(name);
    h[`x-${name}`] = 'seen';
    if (stop && !stopped) {
      stopped = true;
      return 'stop';
    }
    return undefined;
  };
}

const chunk = (s: string): Buffer => Buffer.from(s);

describe('HttpStream: an encode hook holding the response head', () => {
  it('without hooks the head goes out at once', () => {
    const { s, events } = stream();
    s.writeUpstreamHead(200, { a: '1' });
    s.writeBody(chunk('x'));
    s.endResponse(undefined);
    assert.deepEqual(events, [['head', 200, { a: '1' }], ['data', 'x'], ['end', '']]);
  });

  it('the first hook stops: nothing reaches the response, later hooks wait, the body and end queue in order until continueEncoding', () => {
    const { s, events } = stream();
    const order: string[] = [];
    s.encodeHooks.push(hook('later', order, false), hook('first', order, true)); // last-added runs first
    s.writeUpstreamHead(200, {});
    assert.equal(s.writeBody(chunk('one')), true, 'no backpressure under the watermark');
    s.writeBody(chunk('two'));
    s.endResponse(undefined);
    assert.deepEqual(events, []);
    assert.deepEqual(order, ['first']);
    assert.equal(s.response.headersSent, false);
    assert.equal(s.responseStarted, true, 'no retry once the router handed the head on');

    s.continueEncoding();
    assert.deepEqual(order, ['first', 'later']);
    assert.deepEqual(events, [['head', 200, { 'x-first': 'seen', 'x-later': 'seen' }], ['data', 'one'], ['data', 'two'], ['end', '']]);
  });

  it('a remaining hook may hold the head again; each continue releases one hold', () => {
    const { s, events } = stream();
    const order: string[] = [];
    s.encodeHooks.push(hook('later', order, true), hook('first', order, true));
    s.writeUpstreamHead(200, {});
    s.writeBody(chunk('b'));
    s.continueEncoding();
    assert.deepEqual([order, events], [['first', 'later'], []]);
    s.endResponse(undefined);
    s.continueEncoding();
    assert.deepEqual(events, [['head', 200, { 'x-first': 'seen', 'x-later': 'seen' }], ['data', 'b'], ['end', '']]);
    s.continueEncoding(); // nothing held: no effect
    assert.equal(events.length, 3);
  });

  it('body filters see the queued chunks only once the head is released', () => {
    const { s, events } = stream();
    const seen: string[] = [];
    s.responseBodyFilters = [(c, end) => (seen.push(end ? `end:${String(c)}` : String(c)), Buffer.from(String(c).toUpperCase()))];
    s.encodeHooks.push(() => 'stop');
    s.writeUpstreamHead(200, {});
    s.writeBody(chunk('a'));
    s.endResponse(undefined);
    assert.deepEqual(seen, []);
    s.continueEncoding();
    assert.deepEqual(seen, ['a', 'end:']);
    assert.deepEqual(events, [['head', 200, {}], ['data', 'A'], ['end', '']]);
  });

  it('a local reply while the head is held replaces the response, bypassing the encode hooks; the upstream rest is dropped', () => {
    const { s, events } = stream();
    let calls = 0;
    s.encodeHooks.push(() => (calls++, 'stop'));
    s.writeUpstreamHead(200, { 'x-upstream': '1' });
    s.writeBody(chunk('upstream body'));
    s.localReply({ status: 502, body: 'callout failed\n', flag: 0, details: 'wasm_callout_failed' });
    s.writeBody(chunk('more'));
    s.endResponse(undefined);
    s.continueEncoding();
    assert.equal(calls, 1);
    assert.deepEqual(events, [
      ['head', 502, { 'content-type': 'text/plain', 'content-length': '15' }],
      ['end', 'callout failed\n'],
    ]);
    assert.equal(s.info.responseCode, 502);
  });

  it('a local reply sent from inside the hook replaces the head being encoded', () => {
    const { s, events } = stream();
    const order: string[] = [];
    s.encodeHooks.push(hook('later', order, false), (status) => {
      order.push('first');
      if (status === 200) s.localReply({ status: 403, body: '', flag: 0, details: 'denied' });
      return 'stop';
    });
    s.writeUpstreamHead(200, {});
    s.writeBody(chunk('x'));
    s.endResponse(undefined);
    assert.deepEqual(order, ['first']);
    assert.deepEqual(events, [['head', 403, { 'content-length': '0' }], ['end', '']]);
  });

  it("a local reply's own head may be held; its body waits with it", () => {
    const { s, events } = stream();
    s.encodeHooks.push(() => 'stop');
    s.localReply({ status: 404, body: 'nope', flag: 0, details: 'route_not_found' });
    assert.deepEqual(events, []);
    s.continueEncoding();
    assert.deepEqual(events, [['head', 404, { 'content-type': 'text/plain', 'content-length': '4' }], ['end', 'nope']]);
  });

  it('a downstream reset while held drops the queue', () => {
    const { s, events, reset } = stream();
    s.encodeHooks.push(() => 'stop');
    s.writeUpstreamHead(200, {});
    s.writeBody(chunk('x'));
    reset();
    s.endResponse(undefined);
    s.continueEncoding();
    assert.deepEqual(events, []);
  });

  it('above the watermark writeBody asks to wait; the writer resumes once the queue is flushed', () => {
    const { s, events } = stream();
    s.encodeHooks.push(() => 'stop');
    s.writeUpstreamHead(200, {});
    const big = Buffer.alloc(HELD_BODY_WATERMARK / 2, 'a');
    assert.equal(s.writeBody(big), true);
    assert.equal(s.writeBody(big), false);
    let resumed = 0;
    s.whenDrained(() => resumed++);
    assert.equal(resumed, 0);
    s.continueEncoding();
    assert.equal(resumed, 1);
    assert.equal(events.filter((e) => e[0] === 'data').length, 2);
  });

  it('a trailers hook that stops holds the end of the stream until continueEncoding', () => {
    const { s, events } = stream();
    s.encodeTrailerHooks.push((t: HeaderMap) => {
      t['x-added'] = 'yes';
      return 'stop';
    });
    s.writeUpstreamHead(200, {});
    s.writeBody(chunk('x'));
    s.endResponse({ 'grpc-status': '0' });
    assert.deepEqual(events, [['head', 200, {}], ['data', 'x']]);
    s.continueEncoding();
    assert.deepEqual(events.slice(2), [['trailers', { 'grpc-status': '0', 'x-added': 'yes' }], ['end', '']]);
  });
});
