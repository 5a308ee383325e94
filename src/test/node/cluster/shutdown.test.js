'use strict';
// Graceful shutdown, seen by official clients: instances of the conformance application behind a
// small balancer of the test's own, every client on the first one with RPCs in flight, then that
// one stopped the way production stops it (SIGTERM to its JVM). Every client must end up on the
// other, every RPC must get its answer (a resend counts only after the client saw a
// BadConnectionError, never after a timeout), every close from the stopped instance must be
// 1001, the closes must be spread over its drain time, and it must refuse new upgrades with 503
// while it drains. Once with Open Liberty stopped (A), once with Payara Micro (P); the clients
// go to Liberty B both times.
const {before} = require('node:test');
const assert = require('node:assert/strict');
const net = require('node:net');
const socketClusterClient = require('socketcluster-client');
const h = require('./harness');

const DRAIN_TIME = 4000;
const CLIENTS = 12;

let instances = [];
let A, P, B;
const balancers = [];

// A TCP balancer as a Kubernetes Service or a proxy with retries would be: each new connection
// goes to the first backend, in order, that accepts it and does not answer its upgrade request
// with 503; once one answers otherwise, bytes are piped both ways untouched. It notes the close
// frame each backend sent last on each connection (the server's frames are not masked).
class Balancer {
  constructor(backends) {
    this.backends = backends;          // [{name, port}]
    this.live = new Map(backends.map((b) => [b.name, new Set()]));
    this.refusals = [];                // {backend, why}
    this.closeFrames = new Map(backends.map((b) => [b.name, []]));   // close code, or 'none'
    this.server = net.createServer((client) => this.accept(client));
  }

  listen() {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => resolve(this.server.address().port));
    });
  }

  accept(client) {
    let head = Buffer.alloc(0);
    let routed = false;
    client.on('error', () => {});
    const onData = (chunk) => {
      head = Buffer.concat([head, chunk]);
      if (!routed && head.includes('\r\n\r\n')) {
        routed = true;
        client.pause();
        client.removeListener('data', onData);
        this.route(client, head, 0);
      }
    };
    client.on('data', onData);
  }

  route(client, request, index) {
    if (index >= this.backends.length) {
      client.end('HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      return;
    }
    const backend = this.backends[index];
    const upstream = net.connect(backend.port, '127.0.0.1');
    let response = Buffer.alloc(0);
    let decided = false;
    const next = (why) => {
      if (decided) return;
      decided = true;
      this.refusals.push({backend: backend.name, why});
      upstream.destroy();
      this.route(client, request, index + 1);
    };
    upstream.on('error', (error) => next(error.code || error.message));
    upstream.on('close', () => next('closed before answering'));
    upstream.on('connect', () => upstream.write(request));
    const onResponse = (chunk) => {
      response = Buffer.concat([response, chunk]);
      if (decided || !response.includes('\r\n\r\n')) return;
      const status = response.toString('latin1', 0, response.indexOf('\r\n'));
      if (/^HTTP\/1\.1 503/.test(status)) {
        next(status);
        return;
      }
      decided = true;
      upstream.removeListener('data', onResponse);
      upstream.removeAllListeners('close');
      const live = this.live.get(backend.name);
      const pair = {client, upstream};
      live.add(pair);
      const end = () => {
        live.delete(pair);
        client.destroy();
        upstream.destroy();
      };
      let tail = Buffer.alloc(0);
      upstream.on('data', (chunk) => { tail = Buffer.concat([tail, chunk]).subarray(-160); });
      upstream.on('close', () => this.closeFrames.get(backend.name).push(lastCloseCode(tail)));
      upstream.on('close', end);
      client.on('close', end);
      client.write(response);
      client.pipe(upstream);
      upstream.pipe(client);
      client.resume();
    };
    upstream.on('data', onResponse);
  }

  liveOn(name) {
    return this.live.get(name).size;
  }

  close() {
    for (const pairs of this.live.values()) {
      for (const {client, upstream} of pairs) {
        client.destroy();
        upstream.destroy();
      }
    }
    this.server.close();
  }
}

// The code of the close frame that ends a server's bytes (FIN + opcode 8, unmasked, payload
// under 126 bytes), or 'none' when they do not end with one.
function lastCloseCode(tail) {
  for (let at = tail.length - 2; at >= 0; at--) {
    const length = tail[at + 1];
    if (tail[at] === 0x88 && length < 126 && at + 2 + length === tail.length) {
      return length >= 2 ? tail.readUInt16BE(at + 2) : 'empty';
    }
  }
  return 'none';
}

// One raw upgrade request straight to a port: its status line and headers.
function upgradeStatus(port) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let data = '';
    socket.setTimeout(10000, () => { socket.destroy(); reject(new Error(`no answer from port ${port}`)); });
    socket.on('error', reject);
    socket.on('connect', () => socket.write(`GET /socketcluster/ HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n` +
      'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n' +
      'Sec-WebSocket-Version: 13\r\n\r\n'));
    socket.on('data', (chunk) => {
      data += chunk.toString('latin1');
      if (data.includes('\r\n\r\n')) {
        socket.destroy();
        resolve(data.slice(0, data.indexOf('\r\n\r\n')));
      }
    });
  });
}

// An official client through the balancer, reconnecting by itself after a close, with RPCs that
// it resends only after a BadConnectionError.
class Caller {
  constructor(name, port) {
    this.name = name;
    this.disconnects = [];             // {code, reason, at}
    this.connects = [];                // timestamps
    this.answers = [];                 // {procedure, at}
    this.errors = [];                  // {name, message, procedure, at}
    this.running = true;
    this.socket = socketClusterClient.create({
      hostname: '127.0.0.1',
      port,
      path: '/socketcluster/',
      ackTimeout: 20000,
      // Quick reconnects, so that the test does not wait the default 10 to 20 s.
      autoReconnectOptions: {initialDelay: 100, randomness: 400, multiplier: 1, maxDelay: 1000}
    });
    (async () => {
      for await (const event of this.socket.listener('disconnect')) {
        this.disconnects.push({code: event.code, reason: event.reason, at: Date.now()});
      }
    })();
    (async () => {
      for await (const event of this.socket.listener('connect')) this.connects.push(Date.now());
    })();
    (async () => {
      for await (const request of this.socket.procedure('ping')) request.end('pong');
    })();
    (async () => { for await (const event of this.socket.listener('error')) { /* seen as disconnects */ } })();
  }

  // Calls the procedure until it is answered; a resend follows only a BadConnectionError.
  async call(procedure, data) {
    for (;;) {
      try {
        const result = await this.socket.invoke(procedure, data);
        this.answers.push({procedure, at: Date.now()});
        return result;
      } catch (error) {
        this.errors.push({name: error.name, message: error.message, procedure, at: Date.now()});
        if (error.name !== 'BadConnectionError') throw error;
      }
    }
  }

  // Two RPC loops at once: `slow` (answered by the server after a while) and `callClient` (the
  // server invokes this client's `ping` and answers once it has the acknowledgement).
  start(index) {
    const slow = async () => {
      for (let n = 0; this.running; n++) {
        const ms = 150 + ((index * 37 + n * 53) % 350);
        const answer = await this.call('slow', {ms});
        assert.deepEqual(answer, {waited: ms});
      }
    };
    const callClient = async () => {
      for (let n = 0; this.running; n++) {
        const answer = await this.call('callClient', {procedure: 'ping', data: n});
        assert.deepEqual(answer, {result: 'pong'});
      }
    };
    this.loops = Promise.all([slow(), callClient()]);
  }

  async stop() {
    this.running = false;
    await this.loops;
    this.socket.disconnect();
  }
}

before(async () => {
  const env = {SOCKETCLUSTER_BROKERENGINE: 'memory', SOCKETCLUSTER_DRAINTIME: String(DRAIN_TIME)};
  instances = await h.startInstances([
    {name: 'A', runtime: 'liberty', env},
    {name: 'P', runtime: 'payara', env},
    {name: 'B', runtime: 'liberty', env}
  ]);
  [A, P, B] = instances;
}, {timeout: 420000});

const check = h.suite({
  get instances() { return instances; },
  closeClients() { for (const balancer of balancers) balancer.close(); }
});

// Clients on `stopped` (through a balancer that prefers it to `other`), RPCs in flight, SIGTERM to
// its JVM; then every assertion of the file's header.
async function handOver(t, stopped, other) {
  const name = stopped.name;
  const balancer = new Balancer([{name, port: stopped.port}, {name: other.name, port: other.port}]);
  balancers.push(balancer);
  const port = await balancer.listen();
  const callers = Array.from({length: CLIENTS}, (_, i) => new Caller(`${name}c${i}`, port));
  await h.until(() => callers.every((c) => c.socket.state === 'open'), 30000, 'every client to connect');
  assert.equal(balancer.liveOn(name), CLIENTS, `every client starts on ${name}`);
  callers.forEach((c, i) => c.start(i));
  await h.until(() => callers.every((c) => c.answers.length >= 4), 30000, 'RPCs to flow on every client');

  const stoppedAt = Date.now();
  process.kill(stopped.jvmPid(), 'SIGTERM');

  // While it drains, a new upgrade to it is refused with 503 and Retry-After.
  await h.until(() => callers.some((c) => c.disconnects.length > 0), 30000, `the first close from ${name}`);
  const refusal = await upgradeStatus(stopped.port);
  assert.match(refusal, /^HTTP\/1\.1 503/, `an upgrade to ${name} while it drains: ${refusal}`);
  assert.match(refusal, /\r\nRetry-After: \d+/i, `no Retry-After: ${refusal}`);

  await h.withTimeout(stopped.proc.exited, 60000, `${name} to stop`);
  const stoppedIn = Date.now() - stoppedAt;
  await h.until(() => callers.every((c) => c.socket.state === 'open' && c.connects.length >= 2), 30000,
    'every client to reconnect');
  // Some more RPCs on the other instance; every client's connection is the other's now.
  const counts = callers.map((c) => c.answers.length);
  await h.until(() => callers.every((c, i) => c.answers.length >= counts[i] + 2), 30000,
    `RPCs to flow on ${other.name}`);
  await h.until(() => balancer.liveOn(name) === 0, 10000, `no connection left to ${name}`);
  assert.equal(balancer.liveOn(other.name), CLIENTS, `every client on ${other.name}`);
  const closes = callers.flatMap((c) => c.disconnects.map((d) => ({...d, client: c.name})));
  const connects = callers.map((c) => c.connects.length);
  // The loops end with every call answered.
  await Promise.all(callers.map((c) => c.stop()));

  const errors = callers.flatMap((c) => c.errors.map((e) => ({...e, client: c.name})));
  const answered = callers.reduce((n, c) => n + c.answers.length, 0);
  const answeredWhileDraining = callers.reduce((n, c) => n + c.answers.filter((a) =>
    a.at > stoppedAt && c.disconnects.length > 0 && a.at <= c.disconnects[0].at).length, 0);
  const times = closes.map((d) => d.at - stoppedAt).sort((x, y) => x - y);
  t.diagnostic(`${name} stopped ${stoppedIn} ms after SIGTERM; closes at +${times.join(', +')} ms ` +
    `(codes the clients saw: ${closes.map((d) => d.code).join(', ')}); ` +
    `${answered} RPCs answered, ${answeredWhileDraining} of them by ${name} while it drained; ` +
    `${errors.length} BadConnectionErrors resent; balancer refusals: ${JSON.stringify(balancer.refusals.slice(0, 3))}`);

  // It closed every connection with a 1001 close frame. Every client was closed once and saw
  // 1001, or 1005: socketcluster-client reports 1005 when it sends on a socket whose close frame
  // has arrived but whose close it has not finished (its transport.send), never a dropped
  // connection (1006). Each connected once more (to the other: see above).
  assert.deepEqual(balancer.closeFrames.get(name), Array(CLIENTS).fill(1001), `close frames ${name} sent`);
  assert.equal(closes.length, CLIENTS, `closes: ${JSON.stringify(closes)}`);
  assert.deepEqual(closes.filter((d) => d.code !== 1001 && d.code !== 1005), [], 'closes other than 1001');
  assert.deepEqual(connects, Array(CLIENTS).fill(2), 'connects per client');
  // Every RPC got its answer: the only errors are BadConnectionErrors, each followed by a resend.
  assert.deepEqual(errors.filter((e) => e.name !== 'BadConnectionError'), [], 'errors other than BadConnectionError');
  assert.ok(answeredWhileDraining > 0, `no RPC in flight was answered by ${name} while it drained`);
  // The closes were spread over the drain time, not all at once (coarsely: half of it at least).
  assert.ok(times[times.length - 1] - times[0] >= DRAIN_TIME / 2,
    `closes not spread over ${DRAIN_TIME} ms: +${times.join(', +')}`);
}

check('Open Liberty, SIGTERM with RPCs in flight: every client reconnects to the other instance, every RPC is answered, closes are 1001 and spread', async (t) => {
  t.diagnostic(`instances ready after ${h.describeStarts(instances)}`);
  await handOver(t, A, B);
}, 240000);

check('Payara Micro, SIGTERM with RPCs in flight: every client reconnects to the other instance, every RPC is answered, closes are 1001 and spread', async (t) => {
  await handOver(t, P, B);
}, 240000);
