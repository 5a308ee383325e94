'use strict';
// History, recovery and presence through the official client, the same tests on one instance on
// the memory engine and on two instances sharing one Redis (each test's clients then on different
// instances): the same answers expected of both.
const {describe, before} = require('node:test');
const assert = require('node:assert/strict');
const socketClusterClient = require('socketcluster-client');
const h = require('./harness');

const CONFIG = {
  SOCKETCLUSTER_HISTORY_CHANNELS: 'hist-*',
  SOCKETCLUSTER_HISTORY_SIZE: '5',
  SOCKETCLUSTER_PRESENCE_CHANNELS: 'room-*'
};

// A client whose connection the test drops and restores itself (autoReconnect off), as a browser's
// would be dropped: its channels are subscribed again on connect, with the same options.data.
async function connect(instance) {
  const socket = socketClusterClient.create({
    hostname: '127.0.0.1', port: instance.port, path: '/socketcluster/', autoReconnect: false, ackTimeout: 10000
  });
  socket.received = new Map();
  await h.withTimeout(socket.listener('connect').once(), 20000, `a client to connect to ${instance.name}`);
  opened.push(socket);
  return socket;
}

const opened = [];

// Records a channel's deliveries in order (and hands each to onEach first).
function record(socket, channel, onEach = () => {}) {
  const list = [];
  socket.received.set(channel.name, list);
  (async () => {
    for await (const data of channel) {
      onEach(data);
      list.push(data);
      h.notify();
    }
  })();
  return list;
}

const markers = (list) => list.filter((m) => !('data' in m));
const dataOf = (list) => list.filter((m) => 'data' in m);

for (const engine of ['memory', 'redis']) {
  describe(`on the ${engine} engine`, () => {
    let redis;
    let instances = [];
    // The first and the last instance: the same one on the memory engine.
    let first;
    let last;

    before(async () => {
      if (engine === 'redis') {
        redis = await h.startRedis({name: 'history-redis'});
        instances = await h.startInstances(['H1', 'H2'].map((name) => ({
          name, runtime: 'liberty', env: {...CONFIG, SOCKETCLUSTER_REDIS_URI: redis.uri}
        })), {pubsub: true});
      } else {
        instances = await h.startInstances([{name: 'M1', runtime: 'liberty',
          env: {...CONFIG, SOCKETCLUSTER_BROKERENGINE: 'memory'}}]);
      }
      first = instances[0];
      last = instances[instances.length - 1];
    }, {timeout: 420000});

    const check = h.suite({
      get instances() { return instances; },
      get redis() { return redis; },
      closeClients: () => opened.splice(0).forEach((socket) => socket.disconnect())
    });

    check('offsets count 1, 2, 3 ... across publishers and #history answers from a position', async () => {
      const channel = h.unique('hist-a');
      const a = await connect(first);
      const b = await connect(last);
      for (let i = 1; i <= 7; i++) {
        await (i % 2 ? a : b).invokePublish(channel, {n: i});
      }
      const all = await b.invoke('#history', {channel});
      assert.equal(all.offset, 7);
      assert.deepEqual(all.publications, [3, 4, 5, 6, 7].map((n) => ({offset: n, data: {n}})));
      const since = await a.invoke('#history', {channel, since: {offset: 5, epoch: all.epoch}});
      assert.deepEqual(since, {epoch: all.epoch, offset: 7, publications: [{offset: 6, data: {n: 6}}, {offset: 7, data: {n: 7}}]});
      const limited = await a.invoke('#history', {channel, limit: 1});
      assert.deepEqual(limited.publications, [{offset: 7, data: {n: 7}}]);
      await assert.rejects(a.invoke('#history', {channel, since: {offset: 1, epoch: all.epoch}}),
        {name: 'UnrecoverablePositionError'});
      await assert.rejects(a.invoke('#history', {channel, since: {offset: 6, epoch: 'another'}}),
        {name: 'UnrecoverablePositionError'});
      await assert.rejects(a.invoke('#history', {channel: h.unique('plain')}), {name: 'InvalidActionError'});
    });

    check('a dropped client recovers what was published meanwhile, once each and in order', async () => {
      const name = h.unique('hist-b');
      const publisher = await connect(first);
      const reader = await connect(last);
      const position = {};
      // The application keeps its position from what it receives.
      const got = record(reader, reader.subscribe(name, {data: {recover: position}}), (m) => {
        position.offset = m.offset;
        position.epoch = m.epoch;
      });
      await h.waitFor(() => markers(got).length === 1, 20000, 'the first marker');
      assert.deepEqual(markers(got)[0], {offset: 0, epoch: markers(got)[0].epoch, recovered: true});
      for (let i = 1; i <= 2; i++) await publisher.invokePublish(name, `live ${i}`);
      await h.waitFor(() => dataOf(got).length === 2, 20000, 'two live publications');

      reader.disconnect();
      for (let i = 1; i <= 3; i++) await publisher.invokePublish(name, `missed ${i}`);
      reader.connect();
      await h.waitFor(() => markers(got).length === 2, 20000, 'the marker after the reconnect');
      await publisher.invokePublish(name, 'after');
      await h.waitFor(() => dataOf(got).length === 6, 20000, () => `every publication: ${JSON.stringify(got)}`);
      const epoch = markers(got)[0].epoch;
      assert.deepEqual(got, [
        {offset: 0, epoch, recovered: true},
        {offset: 1, epoch, data: 'live 1'}, {offset: 2, epoch, data: 'live 2'},
        {offset: 3, epoch, data: 'missed 1'}, {offset: 4, epoch, data: 'missed 2'}, {offset: 5, epoch, data: 'missed 3'},
        {offset: 5, epoch, recovered: true},
        {offset: 6, epoch, data: 'after'}
      ]);
    });

    check('a position that cannot be recovered is told, with the channel\'s position now', async () => {
      const name = h.unique('hist-c');
      const publisher = await connect(first);
      for (let i = 1; i <= 8; i++) await publisher.invokePublish(name, i);
      const reader = await connect(last);
      const {epoch} = await reader.invoke('#history', {channel: name, limit: 1});
      const got = record(reader, reader.subscribe(name, {data: {recover: {offset: 1, epoch}}}));
      await h.waitFor(() => got.length === 1, 20000, 'the marker');
      assert.deepEqual(got, [{offset: 8, epoch, recovered: false}]);
    });

    check('presence lists the subscribed sockets of every instance and notifies joins and leaves', async () => {
      const room = h.unique('room-a');
      const watcher = await connect(first);
      const notes = record(watcher, watcher.subscribe(`#presence:${room}`));
      await watcher.channel(`#presence:${room}`).listener('subscribe').once();
      const alice = await connect(first);
      await alice.invoke('login', {username: 'alice'});
      const bob = await connect(last);
      alice.subscribe(room);
      await alice.channel(room).listener('subscribe').once();
      bob.subscribe(room);
      await bob.channel(room).listener('subscribe').once();
      const members = (await watcher.invoke('#presence', {channel: room})).members;
      assert.deepEqual(new Set(members.map((m) => JSON.stringify(m))),
        new Set([{id: alice.id, user: 'alice'}, {id: bob.id, user: null}].map((m) => JSON.stringify(m))));
      const bobId = bob.id;
      alice.unsubscribe(room);
      bob.disconnect();
      await h.waitFor(() => notes.length === 4, 20000, 'two joins and two leaves');
      assert.deepEqual(new Set(notes.map((m) => JSON.stringify(m))), new Set([
        {join: {id: alice.id, user: 'alice'}}, {join: {id: bobId, user: null}},
        {leave: {id: alice.id, user: 'alice'}}, {leave: {id: bobId, user: null}}].map((m) => JSON.stringify(m))));
      assert.deepEqual((await watcher.invoke('#presence', {channel: room})).members, []);
      await assert.rejects(watcher.invoke('#presence', {channel: h.unique('nope')}), {name: 'InvalidActionError'});
    });
  });
}
