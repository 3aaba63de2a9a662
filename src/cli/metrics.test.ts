import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createKindRegistry } from '../api/kind.js';
import { ALL_KINDS } from '../api/kinds.js';
import type { CliIO } from './output.js';
import { goDurationString, parseGoDurationMs, renderMetricsHeader, renderMetricsRow } from './metrics.js';
import { runCli } from './program.js';

const REGISTRY = createKindRegistry(ALL_KINDS);

function bufferIO(): CliIO & { out: () => string; err: () => string; code: () => number } {
  let out = '';
  let err = '';
  let code = 0;
  return {
    stdout: (s) => void (out += s),
    stderr: (s) => void (err += s),
    stdin: async () => '',
    cwd: process.cwd(),
    setExitCode: (c) => void (code = c),
    out: () => out,
    err: () => err,
    code: () => code,
  };
}

describe('istioctl x metrics table', () => {
  it('prints the header as istioctl does (tabwriter, right-aligned, min width 13)', () => {
    assert.equal(renderMetricsHeader(), `${' '.repeat(34)}WORKLOAD    TOTAL RPS    ERROR RPS  P50 LATENCY  P90 LATENCY  P99 LATENCY\n`);
  });

  it('prints a row with %.3f rates and Go durations of whole milliseconds', () => {
    const row = renderMetricsRow({ workload: 'productpage-v1', totalRps: 0.2, errorRps: 0, p50LatencyMs: 4.7, p90LatencyMs: 1500.2, p99LatencyMs: null });
    assert.equal(row, `${' '.repeat(28)}productpage-v1        0.200        0.000          4ms         1.5s           0s\n`);
  });

  const durations: [number, string][] = [[0, '0s'], [12, '12ms'], [999.9, '999ms'], [1000, '1s'], [1500, '1.5s'], [61_250, '1m1.25s'], [3_600_000, '1h0m0s'], [-5, '-5ms']];
  for (const [ms, s] of durations) it(`Go duration of ${ms} ms is ${s}`, () => assert.equal(goDurationString(ms), s));

  for (const [s, ms] of [['1m', 60_000], ['2m', 120_000], ['90s', 90_000], ['1h', 3_600_000], ['x', undefined]] as const) {
    it(`-d ${s}`, () => assert.equal(parseGoDurationMs(s), ms));
  }
});

describe('isthmus x metrics against the control plane API', () => {
  const asked: URL[] = [];
  let server: Server;
  let cp = '';
  before(async () => {
    server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      asked.push(url);
      const labels = url.searchParams.get('labels') ?? '';
      let body: unknown = [];
      if (url.searchParams.get('window') === '3600000ms') {
        res.writeHead(400);
        res.end('invalid window "3600000ms": longer than the 600s of metrics kept\n');
        return;
      }
      if (!labels.includes('reviews-v2')) body = [];
      else if (url.pathname === '/api/metrics/rate') body = [{ labels: {}, value: labels.includes('response_code') ? 0.25 : 2.5 }];
      else if (url.pathname === '/api/metrics/quantile') body = [{ labels: {}, value: { '0.5': 5.5, '0.9': 9.1, '0.99': 250 }[url.searchParams.get('q') ?? ''] ?? null }];
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    cp = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  it("asks istioctl's queries: server-side reports, prefix matches, 4xx and 5xx as errors", async () => {
    asked.length = 0;
    const io = bufferIO();
    assert.equal(await runCli(['x', 'metrics', 'reviews-v2.default', '-d', '2m', '--control-plane', cp], { io, registry: REGISTRY }), 0, io.err());
    const rates = asked.filter((u) => u.pathname === '/api/metrics/rate').map((u) => [u.searchParams.get('metric'), u.searchParams.get('labels'), u.searchParams.get('window')]);
    assert.deepEqual(rates.sort(), [
      ['istio_requests_total', 'destination_workload=~"reviews-v2.*",destination_workload_namespace=~"default.*",reporter="destination"', '120000ms'],
      ['istio_requests_total', 'destination_workload=~"reviews-v2.*",destination_workload_namespace=~"default.*",reporter="destination",response_code=~"[45][0-9]{2}"', '120000ms'],
    ].sort());
    const quantiles = asked.filter((u) => u.pathname === '/api/metrics/quantile').map((u) => [u.searchParams.get('metric'), u.searchParams.get('q')]);
    assert.deepEqual(quantiles.sort(), [['istio_request_duration_milliseconds', '0.5'], ['istio_request_duration_milliseconds', '0.9'], ['istio_request_duration_milliseconds', '0.99']]);
    assert.equal(io.out(), renderMetricsHeader() + renderMetricsRow({ workload: 'reviews-v2.default', totalRps: 2.5, errorRps: 0.25, p50LatencyMs: 5.5, p90LatencyMs: 9.1, p99LatencyMs: 250 }));
    assert.match(io.out(), /reviews-v2\.default        2\.500        0\.250          5ms          9ms        250ms\n$/);
  });

  it('prints one row per workload, zeros for a workload without traffic, and -o json', async () => {
    const io = bufferIO();
    assert.equal(await runCli(['x', 'm', 'reviews-v2', 'ratings-v1', '--control-plane', cp], { io, registry: REGISTRY }), 0, io.err());
    assert.equal(io.out().split('\n').length, 4);
    assert.match(io.out(), /ratings-v1        0\.000        0\.000           0s           0s           0s\n$/);
    const json = bufferIO();
    assert.equal(await runCli(['x', 'metrics', 'reviews-v2', '-o', 'json', '--control-plane', cp], { io: json, registry: REGISTRY }), 0);
    assert.deepEqual(JSON.parse(json.out()), [{ workload: 'reviews-v2', totalRps: 2.5, errorRps: 0.25, p50LatencyMs: 5.5, p90LatencyMs: 9.1, p99LatencyMs: 250 }]);
  });

  it('reports a bad duration, the control plane refusing it, and an unreachable control plane', async () => {
    const bad = bufferIO();
    assert.equal(await runCli(['x', 'metrics', 'reviews-v2', '-d', 'soon', '--control-plane', cp], { io: bad, registry: REGISTRY }), 64, 'a usage error');
    assert.match(bad.err(), /invalid -d\/--duration "soon"/);
    const long = bufferIO();
    assert.equal(await runCli(['x', 'metrics', 'reviews-v2', '-d', '1h', '--control-plane', cp], { io: long, registry: REGISTRY }), 64);
    assert.match(long.err(), /could not build metrics for workload 'reviews-v2': invalid window/);
    const down = bufferIO();
    assert.equal(await runCli(['x', 'metrics', 'reviews-v2', '--control-plane', '127.0.0.1:1'], { io: down, registry: REGISTRY }), 1);
    assert.match(down.err(), /cannot reach the control plane at 127\.0\.0\.1:1/);
  });

  it('requires a workload and has istioctl-style help', async () => {
    const io = bufferIO();
    assert.equal(await runCli(['x', 'metrics', '--control-plane', cp], { io, registry: REGISTRY }), 64);
    assert.match(io.err(), /missing required argument 'workload'/);
    const help = bufferIO();
    assert.equal(await runCli(['x', 'metrics', '--help'], { io: help, registry: REGISTRY }), 0);
    assert.match(help.out(), /-d, --duration <duration>\s+Duration of query metrics, default value is 1m\./);
    assert.match(help.out(), /isthmus x metrics productpage-v1\.foo reviews-v1\.bar ratings-v1\.baz/);
  });
});
