'use strict';
// The admin page's view of every instance (README "Operations", "Admin page"): Open Liberty and
// Payara Micro on one redis-server, both with socketcluster.admin.password. Each one's
// /admin/api/instances lists both, with the connections and channels of the official clients
// connected to each; a publish through one instance's admin API reaches a subscriber on the
// other; the page and its endpoints answer on Payara as on Liberty (401 without the password);
// an instance that stops shows as draining, then leaves the other's list. The view of a single
// instance (find, disconnect, publish, the chart) is tested in the browser (src/test/browser).
const {before} = require('node:test');
const assert = require('node:assert/strict');
const h = require('./harness');

const PASSWORD = `admin ${process.pid}`;
let redis;
let instances = [];
let L1, P1;

before(async () => {
  redis = await h.startRedis({name: 'admin-redis'});
  const env = {SOCKETCLUSTER_REDIS_URI: redis.uri, SOCKETCLUSTER_ADMIN_PASSWORD: PASSWORD};
  instances = await h.startInstances([
    {name: 'L1', runtime: 'liberty', env},
    // A drain long enough for L1's list to show P1 draining (two announcements at least).
    {name: 'P1', runtime: 'payara', env: {...env, SOCKETCLUSTER_DRAINTIME: '20000'}}
  ], {pubsub: true});
  [L1, P1] = instances;
}, {timeout: 420000});

const check = h.suite({get instances() { return instances; }, get redis() { return redis; }});

const basic = (password) => 'Basic ' + Buffer.from(`operator:${password}`).toString('base64');

async function admin(instance, path, {password = PASSWORD, method = 'GET', body} = {}) {
  const headers = {authorization: basic(password)};
  if (method !== 'GET') {
    headers['x-agserver-admin'] = '1';
    headers['content-type'] = 'application/json';
  }
  const response = await fetch(`http://127.0.0.1:${instance.port}/admin/${path}`,
    {method, headers, body: body === undefined ? undefined : JSON.stringify(body)});
  const text = await response.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* the page, not JSON */ }
  return {status: response.status, headers: response.headers, text, json};
}

// The instances on INSTANCE's list, by the instance id each one's own figures give.
async function listed(instance) {
  const answer = await admin(instance, 'api/instances');
  assert.equal(answer.status, 200, answer.text);
  return answer.json;
}

const ids = {};

check('each instance lists both, with the clients and channels of each', async (t) => {
  for (const instance of instances) {
    const figures = await admin(instance, 'api/figures');
    assert.equal(figures.status, 200, figures.text);
    assert.equal(figures.json.instance.brokerEngine, 'redis');
    ids[instance.name] = figures.json.instance.id;
  }
  assert.notEqual(ids.L1, ids.P1);
  t.diagnostic(`instance ids: L1 ${ids.L1}, P1 ${ids.P1}`);

  const channel = h.unique('admin');
  const clients = await h.connectClients([[L1, 'a1'], [L1, 'a2'], [L1, 'a3'], [P1, 'b1'], [P1, 'b2']]);
  await clients[3].subscribe(channel);
  await clients[4].subscribe(channel);
  await clients[0].subscribe(channel);

  // Each one's own figures count its clients at once; the other's, once it has announced them
  // (every 2 s).
  const expected = {[ids.L1]: {connections: 3, channels: 1}, [ids.P1]: {connections: 2, channels: 1}};
  for (const instance of instances) {
    let last;
    await h.until(async () => {
      last = await listed(instance);
      const seen = Object.fromEntries(last.instances.map((i) => [i.id, {connections: i.connections, channels: i.channels}]));
      return JSON.stringify(seen) === JSON.stringify(expected) || JSON.stringify(seen) === JSON.stringify(
        Object.fromEntries(Object.entries(expected).reverse()));
    }, 30000, `${instance.name}'s list to show both instances' clients (last: ${JSON.stringify(last)})`, 250);
    assert.equal(last.self, ids[instance.name]);
    assert.equal(last.brokerEngine, 'redis');
    assert.equal(last.error, undefined);
    for (const entry of last.instances) {
      assert.equal(entry.draining, false);
      assert.ok(entry.startedAt <= entry.updatedAt, JSON.stringify(entry));
      assert.equal(typeof entry.host, 'string');
    }
  }

  // A publish through L1's admin API reaches the subscribers on both instances.
  const published = await admin(L1, 'api/publish', {method: 'POST', body: {channel, data: '{"from": "admin"}'}});
  assert.equal(published.status, 200, published.text);
  for (const client of [clients[0], clients[3], clients[4]]) {
    const sub = client.track(channel);
    await h.waitFor(() => sub.received.length === 1, 20000, `${client.name} to receive the admin's publish`);
    assert.deepEqual(sub.received, [{from: 'admin'}]);
  }
  // Finding a socket acts on the instance asked: b1 is on P1, not on L1.
  assert.equal((await admin(L1, `api/sockets?id=${encodeURIComponent(clients[3].id)}`)).json.total, 0);
  assert.equal((await admin(P1, `api/sockets?id=${encodeURIComponent(clients[3].id)}`)).json.total, 1);
});

check('the page and its endpoints answer on Payara as on Liberty', async () => {
  for (const instance of instances) {
    const page = await admin(instance, '');
    assert.equal(page.status, 200, `${instance.name}: ${page.text}`);
    assert.match(page.text, /<title>agserver admin<\/title>/);
    assert.equal(page.headers.get('cache-control'), 'no-store');
    const script = await admin(instance, 'admin.js');
    assert.equal(script.status, 200);
    assert.match(script.headers.get('content-type'), /javascript/);
    const refused = await admin(instance, 'api/figures', {password: 'wrong'});
    assert.equal(refused.status, 401);
    assert.equal(refused.headers.get('www-authenticate'), 'Basic realm="agserver-admin", charset="UTF-8"');
    const noGuard = await fetch(`http://127.0.0.1:${instance.port}/admin/api/publish`, {
      method: 'POST', headers: {authorization: basic(PASSWORD)}, body: '{"channel":"x","data":"1"}'
    });
    assert.equal(noGuard.status, 403);
    const get = await admin(instance, 'api/publish');
    assert.equal(get.status, 405);
    assert.equal((await admin(instance, 'api/nothing')).status, 404);
  }
});

check('an instance that stops shows as draining on the other\'s list, then leaves it', async () => {
  const stopping = P1.stop();
  let seen;
  await h.until(async () => {
    seen = (await listed(L1)).instances.find((i) => i.id === ids.P1);
    return seen && seen.draining;
  }, 30000, 'L1 to list P1 as draining', 200);
  await stopping;
  await h.until(async () => (await listed(L1)).instances.every((i) => i.id !== ids.P1), 30000,
    'P1 to leave L1\'s list', 200);
  const left = await listed(L1);
  assert.deepEqual(left.instances.map((i) => i.id), [ids.L1]);
});
