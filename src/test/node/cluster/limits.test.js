'use strict';
// The limits of README "Operations" / "Limits" on real servers, Open Liberty and Payara Micro,
// each an instance of the conformance application started with them (memory engine, no Redis):
//   maxConnections 4, maxConnectionsPerAddress 2 by the last X-Forwarded-For entry,
//   rateLimit 5 messages a second in bursts of 10, closing a socket after 50 refusals.
// Connection limits: a real HTTP upgrade beyond them is answered 503 or 429 with Retry-After and
// no socket is created; a slot frees when a client leaves. Rate limit: the official client sees
// RateLimitError on its RPCs (invoke and #subscribe), loses transmits beyond the limit, is closed
// with 1008 when it keeps flooding, and another client on the same server is not slowed.
// Counts are read with the conformance app's `state` procedure (clientsCount + pendingClientsCount)
// from an observer client of its own address.
// These instances have no socketcluster.admin.password: every /admin/ path answers 404 on both.
const {before} = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const crypto = require('node:crypto');
const socketClusterClient = require('socketcluster-client');
const h = require('./harness');

const ENV = {
  SOCKETCLUSTER_BROKERENGINE: 'memory',
  SOCKETCLUSTER_MAXCONNECTIONS: '4',
  SOCKETCLUSTER_MAXCONNECTIONSPERADDRESS: '2',
  SOCKETCLUSTER_CLIENTADDRESSHEADER: 'X-Forwarded-For',
  SOCKETCLUSTER_RATELIMIT_MESSAGESPERSECOND: '5',
  SOCKETCLUSTER_RATELIMIT_BURST: '10',
  SOCKETCLUSTER_RATELIMIT_CLOSEAFTER: '50'
};
const BURST = 10;

let instances = [];
before(async () => {
  instances = await h.startInstances([
    {name: 'L1', runtime: 'liberty', env: ENV},
    {name: 'P1', runtime: 'payara', env: ENV}
  ]);
}, {timeout: 420000});

const opened = new Set();
const check = h.suite({
  get instances() { return instances; },
  closeClients: () => { for (const s of opened) s.disconnect(); }
});

// An official client whose upgrade carries X-Forwarded-For: address (as a proxy would write it).
async function connect(instance, address) {
  const socket = socketClusterClient.create({
    hostname: '127.0.0.1', port: instance.port, path: '/socketcluster/',
    autoReconnect: false, connectTimeout: 10000, ackTimeout: 10000,
    wsOptions: {headers: {'X-Forwarded-For': address}}
  });
  opened.add(socket);
  socket.closes = [];
  (async () => {
    for await (const event of socket.listener('close')) socket.closes.push(event);
  })();
  const outcome = await h.withTimeout(Promise.race([
    socket.listener('connect').once().then(() => 'connect'),
    socket.listener('close').once().then((e) => `closed (${e.code} ${e.reason || ''})`)
  ]), 20000, `a client from ${address} to connect`);
  if (outcome !== 'connect') throw new Error(`a client from ${address}: ${outcome}`);
  return socket;
}

function leave(socket) {
  socket.disconnect();
  opened.delete(socket);
}

// One WebSocket upgrade by hand: {status, headers, body}; a 101's connection is closed at once.
function upgrade(instance, address) {
  return new Promise((resolve, reject) => {
    const headers = {
      Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13',
      'Sec-WebSocket-Key': crypto.randomBytes(16).toString('base64')
    };
    if (address) headers['X-Forwarded-For'] = address;
    const request = http.request({host: '127.0.0.1', port: instance.port, path: '/socketcluster/', headers, agent: false});
    request.setTimeout(10000, () => request.destroy(new Error('no answer to the upgrade in 10 s')));
    request.on('upgrade', (response, socket) => {
      socket.destroy();
      resolve({status: response.statusCode, headers: response.headers, body: ''});
    });
    request.on('response', (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk) => { body += chunk; });
      response.on('end', () => resolve({status: response.statusCode, headers: response.headers, body}));
    });
    request.on('error', reject);
    request.end();
  });
}

// Sockets the server holds (connected and pending), as the observer's `state` says.
async function sockets(observer) {
  const state = await observer.invoke('state');
  return state.clientsCount + state.pendingClientsCount;
}

async function untilSockets(observer, n) {
  await h.until(async () => (await sockets(observer)) === n, 20000, `the server to hold ${n} sockets`, 100);
}

// Invokes a procedure until it is answered, as a client that backs off on RateLimitError does.
async function invokeWithinLimit(socket, procedure, data) {
  let answer;
  await h.until(async () => {
    try {
      answer = await socket.invoke(procedure, data);
      return true;
    } catch (error) {
      if (error.name !== 'RateLimitError') throw error;
      return false;
    }
  }, 20000, `${procedure} within the rate limit`, 250);
  return answer;
}

// Every client of the previous test gone: only the observer is left.
async function fresh(instance) {
  for (const s of [...opened]) leave(s);
  const observer = await connect(instance, '203.0.113.1');
  await untilSockets(observer, 1);
  return observer;
}

for (const [index, runtime] of [[0, 'liberty'], [1, 'payara']]) {
  const instance = () => instances[index];

  check(`${runtime}: an upgrade beyond maxConnections is refused with 503 before a socket exists; a slot frees when a client leaves`, async () => {
    const observer = await fresh(instance());
    const clients = [];
    for (const address of ['203.0.113.2', '203.0.113.3', '203.0.113.4']) clients.push(await connect(instance(), address));
    assert.equal(await sockets(observer), 4);

    const refused = await upgrade(instance(), '203.0.113.5');
    assert.equal(refused.status, 503);
    assert.equal(refused.headers['retry-after'], '10');
    assert.match(refused.headers['content-type'], /^text\/plain/);
    assert.equal(refused.body, 'The server is full');
    await assert.rejects(connect(instance(), '203.0.113.6'), /closed \(1006/,
      'the official client sees a connection that failed, and would try again after its delay');
    assert.equal(await sockets(observer), 4, 'no socket for the refused upgrades');

    leave(clients.pop());
    await untilSockets(observer, 3);
    const admitted = await connect(instance(), '203.0.113.5');
    assert.equal(await admitted.invoke('echo', 1), 1);
    assert.equal(await sockets(observer), 4);
  });

  check(`${runtime}: an upgrade beyond maxConnectionsPerAddress is refused with 429, counted by the proxy's X-Forwarded-For entry`, async () => {
    const observer = await fresh(instance());
    await connect(instance(), '198.51.100.7');
    await connect(instance(), '198.51.100.7');

    const refused = await upgrade(instance(), '198.51.100.7');
    assert.equal(refused.status, 429);
    assert.equal(refused.headers['retry-after'], '10');
    assert.equal(refused.body, 'Too many connections from this address');
    const spoofed = await upgrade(instance(), '192.0.2.1, 198.51.100.7');
    assert.equal(spoofed.status, 429, 'only the last entry, the one the proxy wrote, counts');
    assert.equal(await sockets(observer), 3, 'no socket for the refused upgrades');

    const other = await connect(instance(), '192.0.2.1, 198.51.100.8');
    assert.equal(await other.invoke('echo', 2), 2, 'another address has room');
  });

  check(`${runtime}: an RPC beyond the rate limit fails with RateLimitError in the official client, #subscribe too`, async () => {
    await fresh(instance());
    const client = await connect(instance(), '198.51.100.20');
    const calls = Array.from({length: 30}, (_, i) => client.invoke('echo', i));
    const outcomes = await Promise.allSettled(calls);
    const answered = outcomes.filter((o) => o.status === 'fulfilled');
    const refused = outcomes.filter((o) => o.status === 'rejected');
    assert.ok(answered.length >= BURST - 1, `answered ${answered.length}: the burst, less the handshake`);
    assert.ok(refused.length >= 1, 'thirty at once are beyond a burst of ten');
    for (const o of refused) {
      assert.equal(o.reason.name, 'RateLimitError');
      assert.match(o.reason.message, /Rate limit exceeded: 5 messages per second, bursts of 10/);
    }
    for (const o of answered) assert.equal(typeof o.value, 'number');

    // Tokens spent again, then a subscribe: an RPC like any other.
    await Promise.allSettled(Array.from({length: 12}, (_, i) => client.invoke('echo', i)));
    const channel = client.subscribe(h.unique('limited'));
    const failure = await h.withTimeout(channel.listener('subscribeFail').once(), 10000, 'subscribeFail');
    assert.equal(failure.error.name, 'RateLimitError');
    assert.equal(client.state, 'open', 'refusals alone do not close the socket');
  });

  check(`${runtime}: transmits beyond the rate limit are dropped, the rest arrive in order`, async () => {
    await fresh(instance());
    const client = await connect(instance(), '198.51.100.21');
    for (let n = 0; n < 30; n++) client.transmit('sequence', n);
    const received = await invokeWithinLimit(client, 'sequence');
    assert.ok(received.length >= BURST - 1 && received.length < 30, `received ${received.length} of 30`);
    assert.deepEqual(received, [...received].sort((a, b) => a - b), 'in order');
    assert.deepEqual(received.slice(0, BURST - 1), Array.from({length: BURST - 1}, (_, i) => i), 'the burst first');
  });

  check(`${runtime}: a client that keeps flooding is closed with 1008, another client is not slowed`, async () => {
    await fresh(instance());
    const calm = await connect(instance(), '198.51.100.30');
    const flooding = await connect(instance(), '198.51.100.31');
    const closed = flooding.listener('close').once();
    for (let n = 0; n < 200; n++) flooding.transmit('sequence', n);
    const event = await h.withTimeout(closed, 20000, 'the flooding client to be closed');
    assert.equal(event.code, 1008);
    assert.equal(event.reason, 'Rate limit exceeded');
    for (let i = 0; i < 5; i++) assert.equal(await calm.invoke('echo', i), i);
    assert.equal(calm.state, 'open');
  });

  check(`${runtime}: without socketcluster.admin.password every /admin/ path answers 404, password or not`, async () => {
    for (const where of ['admin', 'admin/', 'admin/admin.js', 'admin/api/figures', 'admin/api/instances']) {
      for (const headers of [{}, {authorization: 'Basic ' + Buffer.from('operator:anything').toString('base64')}]) {
        const response = await fetch(`http://127.0.0.1:${instance().port}/${where}`, {headers, redirect: 'manual'});
        assert.equal(response.status, 404, where);
        assert.equal(response.headers.get('www-authenticate'), null);
      }
    }
    const post = await fetch(`http://127.0.0.1:${instance().port}/admin/api/publish`, {
      method: 'POST', headers: {'x-agserver-admin': '1'}, body: '{"channel":"x","data":"1"}'
    });
    assert.equal(post.status, 404);
  });
}
