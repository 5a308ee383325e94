'use strict';
// Two Open Liberty instances on a three-node Redis Cluster (SOCKETCLUSTER_REDIS_CLUSTER=true:
// sharded pub/sub, SSUBSCRIBE/SPUBLISH): cross-instance delivery exactly once and in order on
// many channels, spread over the three shards; subscribe acknowledgement; churn.
const {before} = require('node:test');
const assert = require('node:assert/strict');
const h = require('./harness');

let cluster;
let instances = [];
let L1, L2;

before(async () => {
  cluster = await h.startRedisCluster(3);
  instances = await h.startInstances(['L1', 'L2'].map((name) => ({
    name, runtime: 'liberty', env: {SOCKETCLUSTER_REDIS_URI: cluster.uri, SOCKETCLUSTER_REDIS_CLUSTER: 'true'}
  })), {pubsub: true});
  [L1, L2] = instances;
}, {timeout: 420000});

// Each failure's message ends with the instances' warnings and errors; all is stopped after the file.
const check = h.suite({get instances() { return instances; }, get redis() { return cluster; }});

// Each node's shard channels: all, or those of one SocketCluster channel.
const shardChannels = (channel) => Promise.all(cluster.nodes.map((n) => h.redisChannels(n, {channel, sharded: true})));

check('Redis Cluster: a subscribe is acknowledged once its shard has it', async (t) => {
  t.diagnostic(`Redis Cluster on ports ${cluster.nodes.map((n) => n.port).join(', ')}; instances ready after ${h.describeStarts(instances)}`);
  const clients = await h.connectClients([[L1, 'L1a'], [L1, 'L1b'], [L2, 'L2a'], [L2, 'L2b']]);
  const on = (instance) => clients.filter((c) => c.instance === instance);
  const reports = await Promise.all([[L1, L2], [L2, L1]].map(([subscriberAt, publisherAt]) =>
    h.subscribeThenPublish({subscribers: on(subscriberAt), publisher: on(publisherAt)[0], rounds: 10})));
  t.diagnostic(`20 fresh channels: ${reports.reduce((n, r) => n + r.lost, 0)} of ${reports.reduce((n, r) => n + r.expected, 0)} deliveries lost`);
  for (const report of reports) h.assertClean(report, 'a publish right after a resolved subscribe');
  for (const c of clients) c.close();
});

check('Redis Cluster: 32 channels over three shards, every publish reaches every subscriber exactly once, in order', async (t) => {
  const clients = await h.connectClients([[L1, 'L1a'], [L1, 'L1b'], [L2, 'L2a'], [L2, 'L2b']]);
  const run = h.unique('sharded');
  const channels = Array.from({length: 32}, (_, k) => `${run}-${k}`);
  const subs = await Promise.all(clients.flatMap((c) => channels.map((ch) => c.subscribe(ch))));

  // Sharded pub/sub: the engine's channels are shard channels, spread over the nodes.
  const all = await shardChannels();
  for (const list of all) {
    assert.deepEqual(list.filter((c) => !c.startsWith(h.PREFIX)), [], `shard channels without the prefix ${h.PREFIX}`);
  }
  const perNode = all.map((list) => list.filter((c) => c.includes(run)));
  t.diagnostic(`shard channels per node: ${perNode.map((list) => list.length).join(', ')}`);
  assert.ok(perNode.filter((list) => list.length > 0).length >= 2, 'the channels sit on one shard only');
  const missing = channels.filter((ch) => !perNode.some((list) => list.some((c) => h.mentions(c, ch))));
  assert.deepEqual(missing, [], 'channels subscribed by clients but in no shard (PUBSUB SHARDCHANNELS)');

  const report = await h.exchange({publishers: clients, subs, channels, count: 20, mode: 'transmit'});
  t.diagnostic(`4 clients (2 per instance) x 32 channels, 20 transmitPublish per client and channel: ${h.summary(report)}`);
  h.assertClean(report, 'Redis Cluster');
  for (const c of clients) c.close();
});

check('Redis Cluster: churn: the last local subscriber leaves and comes back; nobody left: the shard channel goes', async (t) => {
  const clients = await h.connectClients([[L1, 'L1a'], [L2, 'L2a'], [L2, 'L2b']]);
  const [L1a, L2a, L2b] = clients;
  const channels = Array.from({length: 6}, () => h.unique('cchurn'));
  await Promise.all(channels.map(async (channel) => {
    const send = async (what, ...subscribers) => {
      const report = await h.exchange({publishers: [L1a], subs: subscribers.map((c) => c.subs.get(channel)),
        channels: [channel], count: 5, timeoutMs: 20000});
      if (report.lost || report.fenceError) report.problems.push(await h.describeRedisChannel(cluster.nodes, channel, true));
      h.assertClean(report, `${channel}: ${what}`);
    };
    await Promise.all([L2a, L2b].map((c) => c.subscribe(channel)));
    await send('both subscribed', L2a, L2b);
    L2a.unsubscribe(channel);
    L2b.unsubscribe(channel);
    await L2b.subscribe(channel);
    await send('both left, L2b came back', L2b);
    L2b.unsubscribe(channel);
    await L2a.subscribe(channel);
    await send('L2b left, L2a came back', L2a);
    L2a.unsubscribe(channel);
    await h.until(async () => (await shardChannels(channel)).every((list) => list.length === 0), 15000,
      `the shard channel of ${channel} to go once no instance has a subscriber`);
  }));
  const handover = await h.handoverChurn({publisher: L1a, a: L2a, b: L2b,
    channels: Array.from({length: 20}, () => h.unique('handover')), cycles: 10,
    describe: (channel) => h.describeRedisChannel(cluster.nodes, channel, true)});
  t.diagnostic(`${handover.handovers} handovers on L2, ${handover.failures.length} failed`);
  assert.equal(handover.failures.length, 0,
    `a subscriber that came as the last one left got nothing:\n  ${handover.failures.join('\n  ')}`);
  for (const c of clients) assert.deepEqual(c.disconnects, [], `${c.name} was disconnected`);
  for (const c of clients) c.close();
});
