'use strict';
// Payara Micro beside Open Liberty on one redis-server, both started while that Redis is not
// running yet: they start (READY) and serve clients; once Redis comes up, pub/sub works across
// them with no client action beyond subscribing; then every publish reaches every subscriber on
// both exactly once, in order.
const {before} = require('node:test');
const assert = require('node:assert/strict');
const h = require('./harness');

let redis;
let instances = [];
let P1, L1;
let early = [];
const earlyOutcomes = [];

before(async () => {
  // The port is chosen now; the server starts in the second test.
  redis = new h.Redis(await h.freePort(), {name: 'payara-redis'});
  instances = await h.startInstances([
    {name: 'P1', runtime: 'payara', env: {SOCKETCLUSTER_REDIS_URI: redis.uri}},
    {name: 'L1', runtime: 'liberty', env: {SOCKETCLUSTER_REDIS_URI: redis.uri}}
  ]);
  [P1, L1] = instances;
}, {timeout: 420000});

// Each failure's message ends with the instances' warnings and errors; all is stopped after the file.
const check = h.suite({get instances() { return instances; }, get redis() { return redis; }});

const channels = [h.unique('late'), h.unique('late')];

check('Redis unreachable at start: Payara and Liberty start anyway and serve clients', async (t) => {
  t.diagnostic(`instances ready (Redis down) after ${h.describeStarts(instances)}`);
  early = await h.connectClients([[P1, 'P1early'], [L1, 'L1early']]);
  for (const c of early) {
    assert.deepEqual(await c.socket.invoke('echo', {n: 1}), {n: 1}, `${c.name}: echo`);
  }
  // A subscribe while Redis is down: it may fail (an error) or wait for Redis; which one is
  // reported, and the next test subscribes again where it failed.
  for (const c of early) {
    for (const channel of channels) {
      c.track(channel);
      const ch = c.socket.subscribe(channel);
      Promise.race([
        ch.listener('subscribe').once().then(() => 'subscribed'),
        ch.listener('subscribeFail').once().then((e) => `failed (${e.error && e.error.name}: ${e.error && e.error.message})`)
      ]).then((outcome) => earlyOutcomes.push(`${c.name} ${outcome}`));
    }
  }
});

check('Redis unreachable at start: once it runs, publications flow between the instances', async (t) => {
  assert.ok(early.length, 'the clients of the first test');
  await redis.start();
  const subs = early.flatMap((c) => channels.map((ch) => c.track(ch)));
  const flowMs = await h.probeUntilFlowing({
    publishers: early, subs, timeoutMs: 60000,
    // Subscribe again where a subscribe made while Redis was down failed.
    beforeEach: async () => {
      for (const sub of subs) {
        if (sub.client.socket.getChannelState(sub.channelName) === 'unsubscribed') sub.client.socket.subscribe(sub.channelName);
      }
    }
  });
  t.diagnostic(`subscribes made while Redis was down: ${earlyOutcomes.join('; ') || 'none settled yet'}`);
  t.diagnostic(`publications flowed ${flowMs} ms after Redis started`);
  const report = await h.exchange({publishers: early, subs, channels, count: 20});
  t.diagnostic(h.summary(report));
  h.assertClean(report, 'after Redis came up');
  for (const c of early) assert.deepEqual(c.disconnects, [], `${c.name} was disconnected`);
});

check('Payara beside Liberty: every publish reaches every subscriber on both exactly once, in order', async (t) => {
  const clients = await h.connectClients([[P1, 'P1a'], [P1, 'P1b'], [L1, 'L1a'], [L1, 'L1b']]);
  const on = (instance) => clients.filter((c) => c.instance === instance);
  const acks = await Promise.all([[P1, L1], [L1, P1]].map(([subscriberAt, publisherAt]) =>
    h.subscribeThenPublish({subscribers: on(subscriberAt), publisher: on(publisherAt)[0], rounds: 5})));
  for (const report of acks) h.assertClean(report, 'a publish right after a resolved subscribe');

  const many = Array.from({length: 8}, () => h.unique('mixed'));
  const subs = await Promise.all(clients.flatMap((c) => many.map((ch) => c.subscribe(ch))));
  const report = await h.exchange({publishers: clients, subs, channels: many, count: 30});
  t.diagnostic(`4 clients (2 per instance) x 8 channels, 30 publishes per client and channel: ${h.summary(report)}`);
  h.assertClean(report, 'Payara beside Liberty');
  for (const c of clients) assert.deepEqual(c.disconnects, [], `${c.name} was disconnected`);
});
