'use strict';
// Smoke test of older official socketcluster-client versions against agserver's conformance
// application (shared/conformance/APP.md): connect, invoke, transmit, subscribe + publish,
// login, then reconnect with the token (the same socket, and a new socket given the token), and
// staying connected past the server's pingTimeout (the client answers the server's pings).
//
//   SC_URL=ws://127.0.0.1:PORT/socketcluster/ SC_CLIENTS=19,17 node --test smoke.test.js
//
// SC_CLIENTS: the major versions to test: 19 and 17 (async-iterable API, protocol 2) need a
// server with the default protocolVersion 2; 14 (emit/on callbacks, pings #1/#2) needs
// socketcluster.protocolVersion=1. .ci/verify-step clients installs them (package.json) and runs
// this file once per server.
const test = require('node:test');
const assert = require('node:assert/strict');

const url = new URL(process.env.SC_URL || 'ws://127.0.0.1:8000/socketcluster/');
const versions = (process.env.SC_CLIENTS || '19,17').split(/[ ,]+/).filter(Boolean);
const options = {
  hostname: url.hostname,
  port: Number(url.port),
  path: url.pathname,
  secure: url.protocol === 'wss:',
  connectTimeout: 5000,
  ackTimeout: 5000
};
// The conformance app's pingTimeout (ms): a socket that stays connected longer than this has
// answered the server's pings.
const SERVER_PING_TIMEOUT = 3000;
const TIMEOUT = 5000;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const unique = (prefix) => `${prefix}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;

function withTimeout(promise, label, ms = TIMEOUT) {
  let timer;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise((resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${label}`)), ms);
    })
  ]);
}

// ---- socketcluster-client 16+ (async iterables): 19, 17 -----------------------------------

function modernClient(version) {
  const client = require(`socketcluster-client-${version}`);
  const sockets = [];

  const once = (stream, label) => withTimeout(stream.once(), label);

  async function connect(extra = {}) {
    const socket = client.create({...options, autoReconnect: false, ...extra});
    sockets.push(socket);
    const status = await once(socket.listener('connect'), 'connect');
    return {socket, status};
  }

  return {
    name: `socketcluster-client ${require(`socketcluster-client-${version}/package.json`).version}`,

    async connect() {
      const {socket, status} = await connect();
      assert.equal(socket.state, 'open');
      assert.equal(typeof status.id, 'string');
      assert.equal(status.id, socket.id);
      assert.equal(status.isAuthenticated, false);
      assert.equal(status.pingTimeout, SERVER_PING_TIMEOUT);
    },

    async invoke() {
      const {socket} = await connect();
      const data = {text: 'hello', n: 42, list: [1, 'two', null], nested: {ok: true}};
      assert.deepEqual(await socket.invoke('echo', data), data);
      await assert.rejects(socket.invoke('fail', 7), (error) => {
        assert.equal(error.name, 'CustomError');
        assert.equal(error.message, 'Failure requested');
        assert.equal(error.code, 7);
        return true;
      });
    },

    async transmit() {
      const {socket} = await connect();
      const bounced = once(socket.receiver('bounced'), 'receiver bounced');
      socket.transmit('bounce', {hello: 'agserver'});
      assert.deepEqual(await bounced, {hello: 'agserver'});
      for (const n of [1, 2, 3]) {
        socket.transmit('sequence', n);
      }
      assert.deepEqual(await socket.invoke('sequence'), [1, 2, 3]);
    },

    async pubsub() {
      const {socket: subscriber} = await connect();
      const {socket: publisher} = await connect();
      const name = unique('smoke');
      const channel = subscriber.subscribe(name);
      await once(channel.listener('subscribe'), 'subscribe');
      assert.deepEqual(subscriber.subscriptions(), [name]);
      const received = once(channel, 'publication');
      await publisher.invokePublish(name, {from: 'publisher'});
      assert.deepEqual(await received, {from: 'publisher'});
      // A publish from the server reaches the subscriber as well.
      const fromServer = once(channel, 'server publication');
      assert.deepEqual(await publisher.invoke('serverPublish', {channel: name, data: 'from the server'}), {ok: true});
      assert.equal(await fromServer, 'from the server');
    },

    async loginAndReconnect() {
      const {socket} = await connect();
      const authenticated = once(socket.listener('authenticate'), 'authenticate');
      assert.deepEqual(await socket.invoke('login', {username: 'alice'}), {ok: true});
      const {signedAuthToken} = await authenticated;
      assert.equal(socket.authState, 'authenticated');
      assert.equal(socket.authToken.username, 'alice');
      assert.equal(signedAuthToken, socket.signedAuthToken);

      // The same socket reconnects and sends its stored token in #handshake.
      socket.disconnect();
      const reconnected = once(socket.listener('connect'), 'reconnect');
      socket.connect();
      const status = await reconnected;
      assert.equal(status.isAuthenticated, true);
      assert.equal(socket.authState, 'authenticated');
      assert.equal((await socket.invoke('whoami')).username, 'alice');

      // A new socket whose auth engine holds the token (a page reload with the token saved).
      const authEngine = {
        saveToken: async (name, token) => token,
        removeToken: async () => null,
        loadToken: async () => signedAuthToken
      };
      const {socket: again, status: againStatus} = await connect({authEngine});
      assert.equal(againStatus.isAuthenticated, true);
      assert.equal((await again.invoke('whoami')).username, 'alice');
      assert.deepEqual(await again.invoke('logout'), {ok: true});
      assert.equal(again.authState, 'unauthenticated');
    },

    async staysConnected() {
      const {socket} = await connect();
      let disconnected = null;
      (async () => {
        for await (const event of socket.listener('disconnect')) {
          disconnected = event;
        }
      })();
      await sleep(SERVER_PING_TIMEOUT + 1500);
      assert.equal(disconnected, null, `disconnected: ${JSON.stringify(disconnected)}`);
      assert.equal(socket.state, 'open');
      assert.equal(await socket.invoke('echo', 'still here'), 'still here');
    },

    close() {
      for (const socket of sockets.splice(0)) {
        socket.disconnect();
        socket.killAllListeners?.();
        socket.closeAllChannels?.();
      }
    }
  };
}

// ---- socketcluster-client 14 and older (emit/on callbacks, protocol 1) --------------------

function legacyClient(version) {
  const client = require(`socketcluster-client-${version}`);
  const sockets = [];

  const event = (emitter, name, label = name) =>
    withTimeout(new Promise((resolve) => emitter.once(name, resolve)), label);
  const call = (socket, name, data) => withTimeout(new Promise((resolve, reject) =>
    socket.emit(name, data, (error, result) => (error ? reject(error) : resolve(result)))), `emit ${name}`);

  async function connect(extra = {}) {
    const socket = client.create({...options, multiplex: false, autoReconnect: false, ...extra});
    sockets.push(socket);
    socket.on('error', () => {}); // errors are asserted where they are expected
    const status = await event(socket, 'connect');
    return {socket, status};
  }

  return {
    name: `socketcluster-client ${require(`socketcluster-client-${version}/package.json`).version}`,

    async connect() {
      const {socket, status} = await connect();
      assert.equal(socket.state, 'open');
      assert.equal(typeof status.id, 'string');
      assert.equal(status.id, socket.id);
      assert.equal(status.isAuthenticated, false);
      assert.equal(status.pingTimeout, SERVER_PING_TIMEOUT);
    },

    async invoke() {
      const {socket} = await connect();
      const data = {text: 'hello', n: 42, list: [1, 'two', null], nested: {ok: true}};
      assert.deepEqual(await call(socket, 'echo', data), data);
      await assert.rejects(call(socket, 'fail', 7), (error) => {
        assert.equal(error.name, 'CustomError');
        assert.equal(error.message, 'Failure requested');
        assert.equal(error.code, 7);
        return true;
      });
    },

    async transmit() {
      const {socket} = await connect();
      const bounced = event(socket, 'bounced');
      socket.emit('bounce', {hello: 'agserver'});
      assert.deepEqual(await bounced, {hello: 'agserver'});
      for (const n of [1, 2, 3]) {
        socket.emit('sequence', n);
      }
      assert.deepEqual(await call(socket, 'sequence'), [1, 2, 3]);
    },

    async pubsub() {
      const {socket: subscriber} = await connect();
      const {socket: publisher} = await connect();
      const name = unique('smoke');
      const channel = subscriber.subscribe(name);
      await event(channel, 'subscribe');
      assert.deepEqual(subscriber.subscriptions(), [name]);
      const publications = [];
      const next = () => withTimeout(new Promise((resolve) => {
        const check = () => (publications.length ? resolve(publications.shift()) : setTimeout(check, 10));
        check();
      }), 'publication');
      channel.watch((data) => publications.push(data));
      await withTimeout(new Promise((resolve, reject) =>
        publisher.publish(name, {from: 'publisher'}, (error) => (error ? reject(error) : resolve()))), 'publish');
      assert.deepEqual(await next(), {from: 'publisher'});
      assert.deepEqual(await call(publisher, 'serverPublish', {channel: name, data: 'from the server'}), {ok: true});
      assert.equal(await next(), 'from the server');
    },

    async loginAndReconnect() {
      const {socket} = await connect();
      const authenticated = event(socket, 'authenticate');
      assert.deepEqual(await call(socket, 'login', {username: 'alice'}), {ok: true});
      const signedAuthToken = await authenticated;
      assert.equal(socket.authState, 'authenticated');
      assert.equal(socket.authToken.username, 'alice');
      assert.equal(signedAuthToken, socket.signedAuthToken);

      socket.disconnect();
      const reconnected = event(socket, 'connect', 'reconnect');
      socket.connect();
      const status = await reconnected;
      assert.equal(status.isAuthenticated, true);
      assert.equal(socket.authState, 'authenticated');
      assert.equal((await call(socket, 'whoami')).username, 'alice');

      const authEngine = {
        saveToken: (name, token, options, callback) => callback && callback(null, token),
        removeToken: (name, callback) => callback && callback(null, null),
        loadToken: (name, callback) => callback(null, signedAuthToken)
      };
      const {socket: again, status: againStatus} = await connect({authEngine});
      assert.equal(againStatus.isAuthenticated, true);
      assert.equal((await call(again, 'whoami')).username, 'alice');
      assert.deepEqual(await call(again, 'logout'), {ok: true});
      assert.equal(again.authState, 'unauthenticated');
    },

    async staysConnected() {
      const {socket} = await connect();
      let disconnected = null;
      socket.on('disconnect', (code, reason) => {
        disconnected = {code, reason};
      });
      await sleep(SERVER_PING_TIMEOUT + 1500);
      assert.equal(disconnected, null, `disconnected: ${JSON.stringify(disconnected)}`);
      assert.equal(socket.state, 'open');
      assert.equal(await call(socket, 'echo', 'still here'), 'still here');
    },

    close() {
      for (const socket of sockets.splice(0)) {
        socket.off();
        socket.on('error', () => {});
        socket.destroy();
      }
    }
  };
}

for (const version of versions) {
  const client = Number(version) >= 15 ? modernClient(version) : legacyClient(version);
  test.describe(client.name, () => {
    test.afterEach(() => client.close());
    test.it('connects (#handshake answered with id and pingTimeout)', () => client.connect());
    test.it('invokes a procedure (result and error)', () => client.invoke());
    test.it('transmits and receives a transmit', () => client.transmit());
    test.it('subscribes and receives what a client and the server publish', () => client.pubsub());
    test.it('logs in, then reconnects with the token', () => client.loginAndReconnect());
    test.it('answers the server pings and stays connected past pingTimeout', () => client.staysConnected());
  });
}
