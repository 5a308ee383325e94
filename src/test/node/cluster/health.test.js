'use strict';
// MicroProfile Health on both runtimes (README, Operations: Health probes and Warm start): a
// Payara Micro and an Open Liberty instance on one redis-server, both with the warm start on
// (SOCKETCLUSTER_WARMUP, off on every other test server) and started while Redis is not running.
// Both answer /health/live, /health/ready and /health/started on their own port; readiness is
// DOWN while Redis is unreachable (before it first runs, and after it is killed) and UP once it
// answers; the warm-up ran on both (its port found in each runtime's configuration) and left no
// client behind.
const {before} = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const h = require('./harness');

let redis;
let instances = [];

const WARM_UP_MS = 2000;

before(async () => {
  redis = new h.Redis(await h.freePort(), {name: 'health-redis'});
  instances = await h.startInstances([
    {name: 'P1', runtime: 'payara', env: {SOCKETCLUSTER_REDIS_URI: redis.uri, SOCKETCLUSTER_WARMUP: String(WARM_UP_MS)}},
    {name: 'L1', runtime: 'liberty', env: {SOCKETCLUSTER_REDIS_URI: redis.uri, SOCKETCLUSTER_WARMUP: String(WARM_UP_MS)}}
  ]);
}, {timeout: 420000});

const check = h.suite({get instances() { return instances; }, get redis() { return redis; }});

// One probe: its HTTP status and JSON body. Payara writes every data value as a string, Liberty
// as JSON numbers and booleans: data values are compared as strings.
async function probe(instance, kind) {
  const response = await fetch(`http://127.0.0.1:${instance.port}/health/${kind}`);
  assert.match(response.headers.get('content-type') || '', /^application\/json/, `${instance.name} /health/${kind}`);
  const body = await response.json();
  const checks = {};
  for (const c of body.checks) {
    checks[c.name] = {status: c.status, data: Object.fromEntries(Object.entries(c.data || {}).map(([k, v]) => [k, String(v)]))};
  }
  return {status: response.status, outcome: body.status, checks, body};
}

const show = (p) => JSON.stringify(p.body);

// The connections a process holds open to a port of its own machine (client side, ESTABLISHED),
// read from /proc: the warm-up's connections to its own server, if it left any.
function connectionsTo(pid, port) {
  const inodes = new Set();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try { text = fs.readFileSync(file, 'utf8'); } catch { continue; }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10) continue;
      const remotePort = parseInt(f[2].split(':')[1], 16);
      if (remotePort === port && f[3] === '01') inodes.add(f[9]);
    }
  }
  let held = 0;
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m && inodes.has(m[1])) held++;
    } catch { /* closed meanwhile */ }
  }
  return held;
}

async function untilReady(instance, up, ms, label) {
  let last;
  await h.until(async () => {
    last = await probe(instance, 'ready');
    return (last.outcome === 'UP') === up;
  }, ms, () => `${instance.name}: ${label}; last ${last && show(last)}`, 250);
  return last;
}

check('Redis unreachable at start: three probes on both runtimes, readiness DOWN, the warm-up done', async (t) => {
  for (const instance of instances) {
    const started = await probe(instance, 'started');
    assert.equal(started.status, 200, `${instance.name} started: ${show(started)}`);
    assert.equal(started.outcome, 'UP');
    assert.deepEqual(started.checks.agserver, {status: 'UP', data: {path: '/socketcluster/'}});

    const live = await probe(instance, 'live');
    assert.equal(live.status, 200, `${instance.name} live: ${show(live)}`);
    assert.deepEqual(Object.keys(live.checks).sort(), ['agserver-senders', 'agserver-timer']);
    assert.equal(live.checks['agserver-timer'].status, 'UP');
    assert.equal(live.checks['agserver-senders'].status, 'UP');

    // The warm-up runs whatever Redis does; readiness waits for it, and for Redis.
    let ready;
    await h.until(async () => {
      ready = await probe(instance, 'ready');
      return ready.checks.agserver.data.warmUp !== 'running';
    }, 120000, `${instance.name}: the warm-up to end`, 250);
    t.diagnostic(`${instance.name} ready while Redis is down: ${show(ready)}`);
    assert.equal(ready.status, 503);
    assert.equal(ready.outcome, 'DOWN');
    const data = ready.checks.agserver.data;
    assert.equal(data.warmUp, 'done', `${instance.name}: ${show(ready)}`);
    assert.ok(Number(data.warmUpHandshakes) > 0, `${instance.name}: warm-up handshakes: ${show(ready)}`);
    assert.equal(data.brokerEngine, 'redis');
    assert.equal(data.brokerConnected, 'false');
    assert.equal(data.ready, 'false', 'the engine never connected: the server is not ready either');
    // Warm-up sockets are never clients, and none is left: the server holds no connection to itself.
    assert.equal(data.clients, '0');
    assert.equal(data.pendingClients, '0');
    assert.equal(connectionsTo(instance.jvmPid(), instance.port), 0, `${instance.name}: warm-up connections left open`);
  }
});

check('Redis runs: readiness UP on both', async (t) => {
  const started = Date.now();
  await redis.start();
  for (const instance of instances) {
    const ready = await untilReady(instance, true, 60000, 'readiness UP once Redis runs');
    t.diagnostic(`${instance.name} ready ${Date.now() - started} ms after Redis started: ${show(ready)}`);
    assert.equal(ready.status, 200);
    assert.equal(ready.checks.agserver.data.brokerConnected, 'true');
    assert.equal(ready.checks.agserver.data.ready, 'true');
  }
});

check('Redis killed: readiness DOWN on both while liveness stays UP; started again: UP', async (t) => {
  const clients = await h.connectClients(instances.map((i) => [i, `${i.name}-client`]));
  // (The count of the first test does see connections: this process's own, here: its client and
  // the probes' kept-alive HTTP connections.)
  for (const instance of instances) assert.ok(connectionsTo(process.pid, instance.port) >= 1, `${instance.name}: this test's client`);
  await redis.kill();
  for (const instance of instances) {
    const down = await untilReady(instance, false, 60000, 'readiness DOWN after Redis was killed');
    assert.equal(down.status, 503);
    assert.equal(down.checks.agserver.data.brokerConnected, 'false');
    assert.equal(down.checks.agserver.data.ready, 'true', 'still ready itself: only the engine is away');
    assert.equal(down.checks.agserver.data.clients, '1');
    const live = await probe(instance, 'live');
    assert.equal(live.outcome, 'UP', `${instance.name} live while Redis is down: ${show(live)}`);
  }
  const restarted = Date.now();
  await redis.start();
  for (const instance of instances) {
    await untilReady(instance, true, 60000, 'readiness UP once Redis is back');
    t.diagnostic(`${instance.name} ready again ${Date.now() - restarted} ms after Redis restarted`);
  }
  for (const c of clients) assert.deepEqual(c.disconnects, [], `${c.name} was disconnected`);
});
