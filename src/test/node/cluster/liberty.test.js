'use strict';
// Three Open Liberty instances of the conformance application sharing one redis-server
// (SOCKETCLUSTER_BROKERENGINE=redis), seen by the official socketcluster-client: cross-instance
// delivery exactly once and in order, subscribe acknowledgement, subscribe/unsubscribe churn,
// Redis restarted under traffic, and an instance killed with SIGKILL. The tests share the
// instances and run in order (the last one kills L3).
const {before} = require('node:test');
const assert = require('node:assert/strict');
const h = require('./harness');

let redis;
let instances = [];
let L1, L2, L3;

before(async () => {
  redis = await h.startRedis({name: 'liberty-redis'});
  instances = await h.startInstances(['L1', 'L2', 'L3'].map((name) => ({
    name, runtime: 'liberty', env: {SOCKETCLUSTER_REDIS_URI: redis.uri}
  })), {pubsub: true});
  [L1, L2, L3] = instances;
}, {timeout: 420000});

// Each failure's message ends with the instances' warnings and errors; all is stopped after the file.
const check = h.suite({get instances() { return instances; }, get redis() { return redis; }});

check('a subscribe is acknowledged once Redis has it: a publish on another instance right after it arrives', async (t) => {
  t.diagnostic(`instances ready after ${h.describeStarts(instances)}`);
  const clients = await h.connectClients([[L1, 'L1a'], [L1, 'L1b'], [L2, 'L2a'], [L2, 'L2b'], [L3, 'L3a'], [L3, 'L3b']]);
  const on = (instance) => clients.filter((c) => c.instance === instance);
  // Three lanes at once, ten fresh channels each: both clients of one instance subscribe at the
  // same time (the instance's first local subscribers), then a client of the next instance
  // publishes.
  const reports = await Promise.all([[L1, L2], [L2, L3], [L3, L1]].map(([subscriberAt, publisherAt]) =>
    h.subscribeThenPublish({subscribers: on(subscriberAt), publisher: on(publisherAt)[0], rounds: 10})));
  for (const c of clients) c.close();
  const lost = reports.reduce((n, r) => n + r.lost, 0);
  t.diagnostic(`30 fresh channels: ${lost} of ${reports.reduce((n, r) => n + r.expected, 0)} deliveries lost`);
  for (const report of reports) h.assertClean(report, 'a publish right after a resolved subscribe');
});

check('two instances: every publish from either (client or server side) reaches every subscriber on both exactly once, in order', async (t) => {
  const clients = await h.connectClients([[L1, 'L1a'], [L1, 'L1b'], [L2, 'L2a'], [L2, 'L2b']]);
  const channels = [h.unique('two'), h.unique('two'), h.unique('two'), h.unique('two')];
  const subs = (await Promise.all(clients.flatMap((c) => channels.map((ch) => c.subscribe(ch)))));
  const report = await h.exchange({publishers: clients, subs, channels, count: 100, mode: 'invoke'});
  t.diagnostic(`4 clients (2 per instance) x 4 channels, 100 publishes per client and channel: ${h.summary(report)}`);
  h.assertClean(report, 'two instances');
  // Server-side publishes (the app's serverPublish procedure) travel the same way.
  const byServer = await h.exchange({publishers: clients, subs, channels, count: 25, mode: 'server'});
  t.diagnostic(`the same with serverPublish, 25 per client and channel: ${h.summary(byServer)}`);
  h.assertClean(byServer, 'two instances, server-side publishes');
  for (const c of clients) c.close();
});

check('three instances, 40 channels with subscribers spread over them: exactly once, in order', async (t) => {
  const clients = await h.connectClients([[L1, 'L1a'], [L1, 'L1b'], [L2, 'L2a'], [L2, 'L2b'], [L3, 'L3a'], [L3, 'L3b']]);
  const channels = Array.from({length: 40}, () => h.unique('many'));
  // Channel k has client j as a subscriber when bit j of k is set, and always client k mod 6:
  // channels with subscribers on one, two or all three instances, and some whose publishers'
  // own instance has none.
  const subs = [];
  await Promise.all(channels.map(async (channel, k) => {
    const chosen = clients.filter((c, j) => ((k >> j) & 1) || j === k % clients.length);
    subs.push(...await Promise.all(chosen.map((c) => c.subscribe(channel))));
  }));
  const report = await h.exchange({publishers: clients, subs, channels, count: 20, mode: 'transmit'});
  t.diagnostic(`6 clients, 40 channels, ${subs.length} subscriptions, 20 transmitPublish per client and channel: ${h.summary(report)}`);
  h.assertClean(report, 'three instances, many channels');

  // The engine's Redis channels carry the configured prefix, one per channel subscribed here.
  const redisChannels = await h.redisChannels(redis);
  const foreign = redisChannels.filter((c) => !c.startsWith(h.PREFIX));
  assert.deepEqual(foreign, [], `Redis channels without the prefix ${h.PREFIX}`);
  const missing = channels.filter((ch) => !redisChannels.some((c) => h.mentions(c, ch)));
  assert.deepEqual(missing, [], 'channels subscribed by clients but not in Redis (PUBSUB CHANNELS)');
  for (const c of clients) c.close();
});

check('churn: after the last local subscriber of a channel leaves an instance and one comes back, delivery still works', async (t) => {
  const clients = await h.connectClients([[L1, 'L1a'], [L1, 'L1b'], [L2, 'L2a'], [L2, 'L2b'], [L3, 'L3a']]);
  const [L1a, L1b, L2a, L2b, L3a] = clients;
  const publishers = [L1a, L3a];
  let exchanges = 0;
  const totals = {expected: 0, delivered: 0};

  // Each channel on its own: L1b stays subscribed throughout; L2's subscribers come and go.
  const churn = async (channel) => {
    const send = async (what, ...subscribers) => {
      const subs = subscribers.map((c) => c.subs.get(channel));
      const report = await h.exchange({publishers, subs, channels: [channel], count: 5, timeoutMs: 20000});
      exchanges++;
      totals.expected += report.expected;
      totals.delivered += report.delivered;
      if (report.lost || report.fenceError) report.problems.push(await h.describeRedisChannel([redis], channel));
      h.assertClean(report, `${channel}: ${what}`);
    };
    await Promise.all([L1b, L2a, L2b].map((c) => c.subscribe(channel)));
    await send('all subscribed', L1b, L2a, L2b);
    L2a.unsubscribe(channel);
    await send('L2a left, L2b stays', L1b, L2b);
    L2b.unsubscribe(channel);
    await send('no subscriber left on L2', L1b);
    await L2a.subscribe(channel);
    await send('L2a back on L2', L1b, L2a);
    L2a.unsubscribe(channel);
    await L2a.subscribe(channel);
    await send('L2a left and came back at once', L1b, L2a);
    L2a.unsubscribe(channel);
    await L2b.subscribe(channel);
    await send('L2a left as L2b came', L1b, L2b);
    // The last local subscriber leaves by disconnecting.
    const [L2c] = await h.connectClients([[L2, `L2c-${channel}`]]);
    await L2c.subscribe(channel);
    L2b.unsubscribe(channel);
    L2c.close();
    await h.waitFor(() => L2c.disconnects.length > 0, 10000, 'L2c to disconnect');
    await L2a.subscribe(channel);
    await send('L2c (last on L2) disconnected, L2a came back', L1b, L2a);
    for (let i = 0; i < 5; i++) {
      L2a.unsubscribe(channel);
      L2a.socket.subscribe(channel);
    }
    await L2a.subscribe(channel);
    await send('L2a toggled five times', L1b, L2a);
    // Nobody left anywhere: the engine lets go of the Redis channel.
    L2a.unsubscribe(channel);
    L1b.unsubscribe(channel);
    await h.until(async () => (await h.redisChannels(redis, {channel})).length === 0, 15000,
      `the Redis channel of ${channel} to go once no instance has a subscriber`);
  };
  await Promise.all([h.unique('churn'), h.unique('churn'), h.unique('churn')].map(churn));
  t.diagnostic(`${exchanges} exchanges: expected ${totals.expected}, received ${totals.delivered}`);
  // Quick handovers on 20 channels: the last local subscriber leaves as another one comes.
  const handover = await h.handoverChurn({publisher: L1a, a: L2a, b: L2b,
    channels: Array.from({length: 20}, () => h.unique('handover')), cycles: 10,
    describe: (channel) => h.describeRedisChannel([redis], channel)});
  t.diagnostic(`${handover.handovers} handovers on L2, ${handover.failures.length} failed`);
  assert.equal(handover.failures.length, 0,
    `a subscriber that came as the last one left got nothing:\n  ${handover.failures.join('\n  ')}`);
  for (const c of clients) assert.deepEqual(c.disconnects, [], `${c.name} was disconnected`);
  for (const c of clients) c.close();
});

check('Redis restarted (twice) under traffic: clients keep their sockets, publications flow again, none lost or duplicated after recovery', async (t) => {
  const clients = await h.connectClients([[L1, 'L1a'], [L1, 'L1b'], [L2, 'L2a'], [L2, 'L2b'], [L3, 'L3a'], [L3, 'L3b']]);
  const publishers = clients.filter((c) => c.name.endsWith('a'));
  const channels = [h.unique('restart'), h.unique('restart')];
  const subs = await Promise.all(clients.flatMap((c) => channels.map((ch) => c.subscribe(ch))));
  const tag = h.unique('traffic');

  // Each publisher publishes s = 0, 1, 2, ... on every channel, one round every 20 ms.
  const sent = new Map(publishers.map((p) => [p.name, 0]));
  let stop = false;
  const loops = publishers.map(async (pub) => {
    while (!stop) {
      const s = sent.get(pub.name);
      for (const channel of channels) pub.socket.transmitPublish(channel, {tag, p: pub.name, s});
      sent.set(pub.name, s + 1);
      await h.sleep(20);
    }
  });
  const sentAtLeast = (n) => h.until(async () => publishers.every((p) => sent.get(p.name) >= n(p)), 60000,
    'the publishers to go on');
  try {
    await h.waitFor(() => subs.every((sub) => publishers.every((p) => sub.count(tag, p) >= 20)), 30000,
      'traffic to reach every subscriber');
    // Twice: a second restart soon after the first must not leave a channel subscribed twice.
    for (const restart of [1, 2]) {
      const atKill = new Map(sent);
      await redis.kill('SIGKILL');
      // Redis stays down while each publisher publishes 50 more rounds (a second or more).
      await sentAtLeast((p) => atKill.get(p.name) + 50);
      const atRestart = new Map(sent);
      await redis.start();
      const flowMs = await h.probeUntilFlowing({publishers, subs, timeoutMs: 30000});
      t.diagnostic(`restart ${restart}: Redis down for rounds ${[...atKill.values()]} .. ${[...atRestart.values()]}; ` +
        `publications flowed again ${flowMs} ms after the restart`);
    }
    const cutoff = new Map(sent);
    await sentAtLeast((p) => cutoff.get(p.name) + 50);
    stop = true;
    await Promise.all(loops);

    const traffic = await h.fenceAndCount({tag, publishers, subs, channels,
      count: (p) => sent.get(p.name), expectedFrom: (p) => cutoff.get(p.name)});
    const total = subs.length * publishers.reduce((n, p) => n + sent.get(p.name), 0);
    t.diagnostic(`traffic: ${total} deliveries in all; after recovery: ${h.summary(traffic)}; ` +
      `lost while Redis was down or recovering (allowed): ${total - (traffic.delivered - traffic.duplicated) - traffic.lost}`);
    h.assertClean(traffic, 'after the Redis restart');
  } finally {
    stop = true;
    await Promise.all(loops);
  }
  for (const c of clients) {
    assert.deepEqual(c.disconnects, [], `${c.name} was disconnected during the Redis restart`);
    assert.ok(c.open, `${c.name}'s socket is not the one it had (state ${c.socket.state})`);
  }
  for (const c of clients) c.close();
}, 180000);

check('an instance killed with SIGKILL: the clients of the others go on', async (t) => {
  const clients = await h.connectClients([[L1, 'L1a'], [L1, 'L1b'], [L2, 'L2a'], [L2, 'L2b'], [L3, 'L3a'], [L3, 'L3b']]);
  const channels = [h.unique('kill'), h.unique('kill'), h.unique('kill')];
  await Promise.all(clients.flatMap((c) => channels.map((ch) => c.subscribe(ch))));
  const survivors = clients.filter((c) => c.instance !== L3);
  const onL3 = clients.filter((c) => c.instance === L3);
  const subsOf = (cs) => cs.flatMap((c) => channels.map((ch) => c.subs.get(ch)));

  const beforeKill = await h.exchange({publishers: clients, subs: subsOf(clients), channels, count: 10});
  h.assertClean(beforeKill, 'before the kill');
  await L3.kill();
  await h.waitFor(() => onL3.every((c) => c.disconnects.length > 0), 20000, 'the clients of L3 to see it go');

  const afterKill = await h.exchange({publishers: survivors, subs: subsOf(survivors), channels, count: 50});
  t.diagnostic(`after L3 was killed: ${h.summary(afterKill)}`);
  h.assertClean(afterKill, 'after L3 was killed');
  // A new client of a survivor subscribes and gets publishes from the other survivor.
  const [newcomer] = await h.connectClients([[L2, 'L2c']]);
  const newSubs = await Promise.all(channels.map((ch) => newcomer.subscribe(ch)));
  const fresh = await h.exchange({publishers: [survivors[0]], subs: newSubs, channels, count: 10});
  h.assertClean(fresh, 'a new subscriber after L3 was killed');
  for (const c of [...survivors, newcomer]) assert.deepEqual(c.disconnects, [], `${c.name} was disconnected`);
  for (const c of clients) c.close();
});
