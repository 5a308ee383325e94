'use strict';
// The cluster tests' machinery: Redis servers (one, or a three-node Redis Cluster) and agserver
// instances (.ci/conformance-server, the conformance application of shared/conformance/APP.md)
// started and stopped by the tests themselves, official socketcluster-client sockets on them, and
// the bookkeeping that says whether every publish reached every subscriber exactly once, in order.
//
// Environment (.ci/verify-step cluster sets the first two):
//   AGSERVER_ROOT         the project (for .ci/conformance-server and target/conformance/agserver.war);
//                         default: found above this file
//   CLUSTER_LOG_DIR       where the instances' and Redis servers' logs go (default
//                         AGSERVER_ROOT/target/cluster-reports); CLUSTER_LOG_DIR/pids holds one
//                         file per process still running, so that a killed test run can be cleaned up
//   REDIS_SERVER, REDIS_CLI   the Redis programs (default: redis-server and redis-cli on the PATH)
//   CLUSTER_START_TIMEOUT seconds an instance may take to print READY (default 240)
//   CLUSTER_BROKERENGINE  the instances' SOCKETCLUSTER_BROKERENGINE (default redis; memory
//                         shows what the tests see without cross-instance delivery)
//
// The instances run the WAR as it is (CONFORMANCE_SERVER_NO_BUILD=1): build it first
// (mvn -DskipTests package). Nothing here waits a fixed time for something to happen: it waits
// for READY lines, Redis's "Ready to accept connections", subscribe events and received messages,
// each with a deadline; the only timers pace publishers and probes.

const {spawn, execFile} = require('node:child_process');
const net = require('node:net');
const fs = require('node:fs');
const path = require('node:path');
const readline = require('node:readline');
const socketClusterClient = require('socketcluster-client');

function findRoot(dir) {
  for (let d = dir; d !== path.dirname(d); d = path.dirname(d)) {
    if (fs.existsSync(path.join(d, '.ci', 'conformance-server'))) return d;
  }
  throw new Error('cannot find the project (.ci/conformance-server): set AGSERVER_ROOT');
}

const ROOT = path.resolve(process.env.AGSERVER_ROOT || findRoot(__dirname));
const LOG_DIR = path.resolve(process.env.CLUSTER_LOG_DIR || path.join(ROOT, 'target', 'cluster-reports'));
const PID_DIR = path.join(LOG_DIR, 'pids');
const REDIS_SERVER = process.env.REDIS_SERVER || 'redis-server';
const REDIS_CLI = process.env.REDIS_CLI || 'redis-cli';
const START_TIMEOUT = Number(process.env.CLUSTER_START_TIMEOUT || 240) * 1000;
const WS_PATH = '/socketcluster/';
// A prefix of this run's own, for the Redis keys and channels of the instances
// (SOCKETCLUSTER_REDIS_PREFIX); the tests check that the engine's channels carry it.
const PREFIX = `agtest${process.pid}`;

fs.mkdirSync(PID_DIR, {recursive: true});

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const unique = (() => {
  let n = 0;
  const run = `${process.pid.toString(36)}${Date.now().toString(36).slice(-4)}`;
  return (prefix) => `${prefix}-${run}-${++n}`;
})();

function withTimeout(promise, ms, label) {
  let timer;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise((resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${label}`)), ms);
    })
  ]);
}

// ---- processes ----------------------------------------------------------------------------

// Every process started here, until it has exited: killed when this process exits, whatever
// the reason, and listed in PID_DIR for .ci/verify-step in case this process is killed itself.
const children = new Set();

function track(proc, what, signal) {
  const entry = {proc, signal};
  const pidFile = path.join(PID_DIR, String(proc.pid));
  fs.writeFileSync(pidFile, `${what}\n`);
  children.add(entry);
  proc.exited = new Promise((resolve) => {
    proc.once('exit', (code, sig) => {
      children.delete(entry);
      fs.rmSync(pidFile, {force: true});
      resolve({code, signal: sig});
    });
  });
  return proc;
}

function killAll() {
  for (const {proc, signal} of children) {
    try { process.kill(proc.pid, signal); } catch { /* gone */ }
  }
}
process.on('exit', killAll);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.once(sig, () => {
    killAll();
    process.exit(128 + ({SIGINT: 2, SIGTERM: 15, SIGHUP: 1})[sig]);
  });
}

function isAlive(proc) {
  return proc.exitCode === null && proc.signalCode === null;
}

// Resolves once a line of the process's output matches, rejects when it ends first or after ms.
function waitForLine(proc, stream, regex, ms, label) {
  return new Promise((resolve, reject) => {
    const lines = readline.createInterface({input: stream});
    let done = false;
    const finish = (error, line) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      proc.removeListener('close', onExit);
      lines.removeListener('line', onLine);
      if (error) reject(error); else resolve(line);
    };
    const onExit = (code, signal) => finish(new Error(`${label}: exited (code ${code}, signal ${signal}) before it was ready`));
    const timer = setTimeout(() => finish(new Error(`${label}: not ready after ${ms} ms`)), ms);
    timer.unref();
    const onLine = (line) => { if (regex.test(line)) finish(null, line); };
    lines.on('line', onLine);
    // 'close' (not 'exit'): the process's last output has been read by then.
    proc.once('close', onExit);
  });
}

// ---- free ports ---------------------------------------------------------------------------

const usedPorts = new Set();

function portFree(port) {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

// A free loopback port not handed out before by this process; withBus: port + 10000 free too
// (a Redis Cluster node's bus port).
async function freePort({withBus = false} = {}) {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 20000 + Math.floor(Math.random() * 30000);
    if (usedPorts.has(port) || (withBus && usedPorts.has(port + 10000))) continue;
    if (!(await portFree(port))) continue;
    if (withBus && !(await portFree(port + 10000))) continue;
    usedPorts.add(port);
    if (withBus) usedPorts.add(port + 10000);
    return port;
  }
  throw new Error('no free port found');
}

// ---- Redis --------------------------------------------------------------------------------

function redisCli(port, ...args) {
  return new Promise((resolve, reject) => {
    execFile(REDIS_CLI, ['-h', '127.0.0.1', '-p', String(port), ...args], {timeout: 20000},
      (error, stdout, stderr) => {
        if (error) reject(new Error(`redis-cli -p ${port} ${args.join(' ')}: ${error.message} ${stderr}`));
        else resolve(stdout);
      });
  });
}

const lines = (text) => text.split('\n').map((l) => l.trim()).filter(Boolean);

// One redis-server on 127.0.0.1:port in the foreground (a child of this process): no
// persistence, its log in LOG_DIR. start() again after kill() restarts it on the same port.
class Redis {
  constructor(port, {name = `redis-${port}`, cluster = false} = {}) {
    this.port = port;
    this.name = name;
    this.cluster = cluster;
    this.dir = path.join(LOG_DIR, `${name}-data`);
    this.logFile = path.join(LOG_DIR, `${name}.log`);
    this.proc = null;
    this.starts = 0;
  }

  get uri() {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start() {
    if (this.proc && isAlive(this.proc)) throw new Error(`${this.name} is already running`);
    fs.mkdirSync(this.dir, {recursive: true});
    if (this.starts === 0 && this.cluster) fs.rmSync(path.join(this.dir, 'nodes.conf'), {force: true});
    this.starts++;
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
      '--daemonize', 'no', '--dir', this.dir, '--logfile', ''];
    if (this.cluster) {
      args.push('--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf',
        '--cluster-node-timeout', '5000');
    }
    const proc = spawn(REDIS_SERVER, args, {stdio: ['ignore', 'pipe', 'pipe']});
    track(proc, `redis-server --port ${this.port}`, 'SIGKILL');
    const log = fs.createWriteStream(this.logFile, {flags: 'a'});
    log.write(`---- ${new Date().toISOString()} ${REDIS_SERVER} ${args.join(' ')}\n`);
    proc.stderr.pipe(log, {end: false});
    const ready = waitForLine(proc, proc.stdout, /Ready to accept connections/, 20000, this.name);
    proc.stdout.on('data', (chunk) => log.write(chunk));
    proc.once('error', (error) => log.write(`${error}\n`));
    this.proc = proc;
    await ready;
    return this;
  }

  // SIGKILL (a crash: no clean shutdown); resolves once the process is gone.
  async kill(signal = 'SIGKILL') {
    const proc = this.proc;
    if (!proc || !isAlive(proc)) return;
    proc.kill(signal);
    await proc.exited;
  }

  async stop() {
    await this.kill('SIGTERM');
  }

  cli(...args) {
    return redisCli(this.port, ...args);
  }
}

// Starts a Redis on a free port; on another one if that port was taken meanwhile (twice at most).
async function startRedisOnFreePort(options, withBus = false) {
  for (let attempt = 1; ; attempt++) {
    const redis = new Redis(await freePort({withBus}), options);
    try {
      return await redis.start();
    } catch (error) {
      await redis.kill();
      if (attempt >= 3) throw error;
    }
  }
}

async function startRedis(options) {
  return startRedisOnFreePort(options);
}

// Three cluster-enabled servers joined with redis-cli --cluster create (no replicas); resolves
// once every node says cluster_state:ok.
async function startRedisCluster(size = 3) {
  const started = await Promise.allSettled(Array.from({length: size}, (_, i) =>
    startRedisOnFreePort({name: `redis-cluster-${i + 1}`, cluster: true}, true)));
  const nodes = started.filter((r) => r.status === 'fulfilled').map((r) => r.value);
  const cluster = {
    nodes,
    uri: nodes.map((n) => n.uri).join(','),
    stop: () => Promise.all(nodes.map((n) => n.stop()))
  };
  try {
    const failed = started.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
    await redisCli(nodes[0].port, '--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`),
      '--cluster-replicas', '0', '--cluster-yes');
    await until(async () => {
      const states = await Promise.all(nodes.map((n) => n.cli('cluster', 'info')));
      return states.every((s) => /cluster_state:ok/.test(s));
    }, 30000, 'the Redis Cluster to be ok', 100);
  } catch (error) {
    await cluster.stop();
    throw error;
  }
  return cluster;
}

// Polls an async predicate until it holds (every intervalMs, up to ms); label may be a function
// (what to say then).
async function until(predicate, ms, label, intervalMs = 200) {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await predicate()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${typeof label === 'function' ? label() : label}`);
    await sleep(intervalMs);
  }
}

// ---- agserver instances -------------------------------------------------------------------

// Liberty's "application did not start" and Payara's deployment failure.
const DEPLOY_FAILED = /CWWKZ000[24]E|Exception while loading the app/;

// .ci/conformance-server PORT RUNTIME with the Redis engine; its output in LOG_DIR.
class Instance {
  constructor({name, runtime = 'liberty', port, env = {}}) {
    this.name = name;
    this.runtime = runtime;
    this.port = port;
    this.env = env;
    this.proc = null;
    this.killed = false;
  }

  get logFile() {
    return path.join(LOG_DIR, `${this.name}-${this.runtime}-${this.port}.log`);
  }

  get url() {
    return `ws://127.0.0.1:${this.port}${WS_PATH}`;
  }

  async start() {
    const env = {
      ...process.env,
      CONFORMANCE_SERVER_NO_BUILD: '1',
      CONFORMANCE_SERVER_TIMEOUT: String(Math.ceil(START_TIMEOUT / 1000)),
      SOCKETCLUSTER_BROKERENGINE: process.env.CLUSTER_BROKERENGINE || 'redis',
      SOCKETCLUSTER_REDIS_PREFIX: PREFIX,
      ...this.env
    };
    const started = Date.now();
    const proc = spawn(path.join(ROOT, '.ci', 'conformance-server'), [String(this.port), this.runtime],
      {cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe']});
    // SIGTERM: the script stops its JVM cleanly and waits for it, even after this process is gone.
    track(proc, `.ci/conformance-server ${this.port} ${this.runtime}`, 'SIGTERM');
    const log = fs.createWriteStream(this.logFile);
    const shown = Object.entries(this.env).map(([k, v]) => `${k}=${v}`).join(' ');
    log.write(`---- ${new Date().toISOString()} ${shown} .ci/conformance-server ${this.port} ${this.runtime}\n`);
    proc.stderr.pipe(log, {end: false});
    this.stderrTail = '';
    proc.stderr.on('data', (chunk) => { this.stderrTail = (this.stderrTail + chunk).slice(-4000); });
    const label = `${this.name} (${this.runtime}, port ${this.port})`;
    const ready = waitForLine(proc, proc.stdout, /READY/, START_TIMEOUT + 10000, label);
    // The application failed to deploy: it will never be READY; say so now (and stop it).
    const failed = waitForLine(proc, proc.stderr, DEPLOY_FAILED, START_TIMEOUT + 10000, label)
      .then((line) => { throw new Error(`${label}: the application did not deploy: ${line.trim()}`); }, () => new Promise(() => {}));
    proc.stdout.on('data', (chunk) => log.write(chunk));
    this.proc = proc;
    this.portTaken = false;
    try {
      await Promise.race([ready, failed]);
    } catch (error) {
      // (.ci/conformance-server refuses a port in use before it touches that port's server.)
      this.portTaken = /port \d+ is already in use/.test(this.stderrTail);
      if (isAlive(proc)) await this.stop().catch(() => {});
      throw new Error(`${error.message}; see ${this.logFile}`);
    }
    this.startSeconds = (Date.now() - started) / 1000;
    this.logOffset = log.bytesWritten + log.writableLength;
    return this;
  }

  get running() {
    return !!this.proc && isAlive(this.proc);
  }

  // The JVM under .ci/conformance-server (a descendant whose command is java).
  jvmPid() {
    const descendants = (pid) => {
      let kids = [];
      try {
        kids = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
      } catch { /* gone */ }
      return kids.flatMap((k) => [k, ...descendants(k)]);
    };
    for (const pid of descendants(this.proc.pid)) {
      try {
        if (fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'java') return pid;
      } catch { /* gone */ }
    }
    throw new Error(`${this.name}: no java process under pid ${this.proc.pid}`);
  }

  // SIGKILL to the JVM (a crash); resolves once .ci/conformance-server has seen it go.
  async kill() {
    this.killed = true;
    process.kill(this.jvmPid(), 'SIGKILL');
    await this.proc.exited;
  }

  async stop() {
    const proc = this.proc;
    if (proc && isAlive(proc)) {
      proc.kill('SIGTERM');
      try {
        await withTimeout(proc.exited, 90000, `${this.name} to stop`);
      } catch (error) {
        try { process.kill(this.jvmPid(), 'SIGKILL'); } catch { /* gone */ }
        proc.kill('SIGKILL');
        throw error;
      }
    }
    if (proc && !this.portTaken) this.tidy();
  }

  // The server's own directory (one per port, under target/).
  get serverDir() {
    return this.runtime === 'liberty'
      ? path.join(ROOT, 'target', 'liberty', 'wlp', 'usr', 'servers', `agserver-conformance-${this.port}`)
      : path.join(ROOT, 'target', 'payara', `conformance-${this.port}`);
  }

  // Each warning the server gave (.ci/conformance-server has Liberty trace them one by one in
  // trace.log; its console sums them up once a minute).
  warnings() {
    if (this.runtime !== 'liberty') return [];
    try {
      return fs.readFileSync(path.join(this.serverDir, 'logs', 'trace.log'), 'utf8')
        .split('\n').filter((l) => /io\.agserver\.ops\.WarningLog\s+1 /.test(l));
    } catch {
      return [];
    }
  }

  // Liberty's messages.log and trace.log are kept beside this instance's log, the rest goes.
  tidy() {
    const dir = this.serverDir;
    if (this.runtime === 'liberty') {
      for (const file of ['messages.log', 'trace.log']) {
        try {
          fs.copyFileSync(path.join(dir, 'logs', file), this.logFile.replace(/\.log$/, `-${file}`));
        } catch { /* no log */ }
      }
    }
    fs.rmSync(dir, {recursive: true, force: true});
  }
}

// Starts instances in parallel: specs are {name, runtime, env}; each gets a free port. With
// pubsub, each start also waits until a client's subscribe succeeds (untilPubSub).
async function startInstances(specs, {pubsub = false} = {}) {
  const instances = [];
  for (const spec of specs) instances.push(new Instance({...spec, port: await freePort()}));
  const results = await Promise.allSettled(instances.map(async (i) => {
    // A port that something else took since it was found free: another one, twice at most.
    for (let attempt = 1; ; attempt++) {
      try {
        await i.start();
        break;
      } catch (error) {
        if (attempt >= 3 || !i.portTaken) throw error;
        i.port = await freePort();
      }
    }
    if (pubsub) i.pubsubMs = await untilPubSub(i);
  }));
  const failed = results.filter((r) => r.status === 'rejected');
  if (failed.length) {
    await stopAll(instances);
    throw new Error(failed.map((r) => r.reason.message).join('; '));
  }
  return instances;
}

// READY means that the WebSocket upgrade works; the Redis engine connects on its own, and until
// it has, a subscribe fails (BrokerError). Resolves with the ms until a client's subscribe
// succeeded, retrying every 200 ms for up to timeoutMs.
async function untilPubSub(instance, timeoutMs = 60000) {
  const client = await new Client(instance, `${instance.name}-warmup`).connect();
  const channel = unique('warmup');
  const started = Date.now();
  try {
    for (;;) {
      try {
        await client.subscribe(channel, timeoutMs);
        return Date.now() - started;
      } catch (error) {
        instance.pubsubFirstError = instance.pubsubFirstError || error.message;
        if (Date.now() - started > timeoutMs) {
          throw new Error(`${instance.name}: no subscribe succeeded within ${timeoutMs} ms of READY: ${error.message}`);
        }
        await sleep(200);
      }
    }
  } finally {
    client.close();
  }
}

// "L1 20.1 s (subscribes from 2300 ms later), ...": how long each instance took to print READY,
// and then to accept a subscribe (with the first refusal, if any).
function describeStarts(instances) {
  const refused = instances.find((i) => i.pubsubFirstError);
  return instances.map((i) => `${i.name} ${i.startSeconds.toFixed(1)} s` +
    (i.pubsubMs != null ? ` (subscribes from ${i.pubsubMs} ms later)` : '')).join(', ') +
    (refused ? `; a subscribe before that: ${refused.pubsubFirstError}` : '');
}

async function stopAll(instances) {
  await Promise.allSettled(instances.filter(Boolean).map((i) => i.stop()));
}

// ---- clients ------------------------------------------------------------------------------

// Every received publication wakes the waiters (waitFor); each waiter re-checks its condition.
const waiters = new Set();
function notify() {
  for (const w of [...waiters]) w();
}

function waitFor(condition, ms, label) {
  return new Promise((resolve, reject) => {
    const check = () => {
      let value;
      try {
        value = condition();
      } catch (error) {
        waiters.delete(check);
        clearTimeout(timer);
        reject(error);
        return;
      }
      if (value) {
        waiters.delete(check);
        clearTimeout(timer);
        resolve(value);
      }
    };
    const timer = setTimeout(() => {
      waiters.delete(check);
      reject(new Error(`timed out after ${ms} ms waiting for ${typeof label === 'function' ? label() : label}`));
    }, ms);
    waiters.add(check);
    check();
  });
}

const allClients = new Set();

// Tags of finished exchanges: a message of one of them that arrives later is counted as late.
const closedTags = new Set();
const late = [];

// An official client on an instance (autoReconnect off: a lost socket stays lost, and shows).
class Client {
  constructor(instance, name) {
    this.instance = instance;
    this.name = name;
    this.subs = new Map();
    this.disconnects = [];
    this.errors = [];
  }

  async connect() {
    const socket = socketClusterClient.create({
      hostname: '127.0.0.1',
      port: this.instance.port,
      path: WS_PATH,
      autoReconnect: false,
      connectTimeout: 10000,
      ackTimeout: 10000
    });
    this.socket = socket;
    allClients.add(this);
    consume(socket.listener('disconnect'), (event) => {
      this.disconnects.push({code: event.code, reason: event.reason, at: new Date().toISOString()});
      notify();
    });
    consume(socket.listener('error'), (event) => this.errors.push(event.error || event));
    const outcome = await withTimeout(Promise.race([
      socket.listener('connect').once().then(() => 'connect'),
      socket.listener('close').once().then((event) => `closed (${event.code} ${event.reason || ''})`)
    ]), 20000, `${this.name} to connect to ${this.instance.url}`);
    if (outcome !== 'connect') throw new Error(`${this.name} on ${this.instance.name}: ${outcome}`);
    this.id = socket.id;
    return this;
  }

  // How this client lost its connection, if it did: for a failure's message.
  lost() {
    if (!this.disconnects.length && !this.errors.length) return '';
    const closes = this.disconnects.map((d) => `${d.code} ${d.reason || ''} at ${d.at}`.trim());
    const errors = this.errors.slice(-3).map((e) => `${e.name}: ${e.message}`);
    return ` (${this.name} was disconnected: ${closes.join('; ') || 'no close seen'}; its last errors: ${errors.join('; ') || 'none'})`;
  }

  // Subscribes (once per channel); resolves on the channel's subscribe event, rejects on
  // subscribeFail. The channel's publications are recorded from before the subscription.
  async subscribe(channelName, timeoutMs = 15000) {
    const sub = this.track(channelName);
    const socket = this.socket;
    if (socket.getChannelState(channelName) === 'subscribed') return sub;
    const channel = socket.subscribe(channelName);
    const outcome = await withTimeout(Promise.race([
      channel.listener('subscribe').once().then(() => null),
      channel.listener('subscribeFail').once().then((event) => event.error || new Error('subscribeFail'))
    ]), timeoutMs, `${this.name}'s subscribe to ${channelName}`);
    if (outcome) throw new Error(`${this.name}'s subscribe to ${channelName} failed: ${outcome.name}: ${outcome.message}`);
    return sub;
  }

  // The record of a channel's publications (from now on), without subscribing.
  track(channelName) {
    let sub = this.subs.get(channelName);
    if (!sub) {
      sub = new Subscription(this, channelName);
      this.subs.set(channelName, sub);
    }
    return sub;
  }

  unsubscribe(channelName) {
    this.socket.unsubscribe(channelName);
  }

  get open() {
    return this.socket && this.socket.state === 'open' && this.socket.id === this.id;
  }

  close() {
    allClients.delete(this);
    if (this.socket) this.socket.disconnect();
  }
}

function consume(iterable, handle) {
  (async () => {
    for await (const item of iterable) handle(item);
  })();
}

// What one client received on one channel (kept across unsubscribe/subscribe).
class Subscription {
  constructor(client, channelName) {
    this.client = client;
    this.channelName = channelName;
    this.received = [];
    this.counts = new Map();
    this.fences = new Map();
    this.probes = new Set();
    consume(client.socket.channel(channelName), (data) => this.onData(data));
  }

  get name() {
    return `${this.client.name}@${this.client.instance.name}:${this.channelName}`;
  }

  onData(data) {
    if (data && typeof data === 'object' && data.tag) {
      if (closedTags.has(data.tag)) late.push({sub: this.name, data});
      else if (data.probe) this.probes.add(`${data.tag}/${data.p}`);
      else if (data.fence) this.fences.set(`${data.tag}/${data.p}`, (this.fences.get(`${data.tag}/${data.p}`) || 0) + 1);
      else {
        this.received.push(data);
        const key = `${data.tag}/${data.p}`;
        this.counts.set(key, (this.counts.get(key) || 0) + 1);
      }
    } else {
      this.received.push(data);
    }
    notify();
  }

  // How many publications of tag from publisher pub arrived (fences and probes aside).
  count(tag, pub) {
    return this.counts.get(`${tag}/${pub.name}`) || 0;
  }

  // Removes and returns what arrived of tag.
  take(tag) {
    const mine = this.received.filter((d) => d && d.tag === tag);
    this.received = this.received.filter((d) => !d || d.tag !== tag);
    return mine;
  }
}

async function connectClients(specs) {
  // specs: [[instance, name], ...]
  const clients = specs.map(([instance, name]) => new Client(instance, name));
  await Promise.all(clients.map((c) => c.connect()));
  return clients;
}

function closeAllClients() {
  for (const c of [...allClients]) c.close();
}

// ---- publishing and counting --------------------------------------------------------------

// invokePublish of every item with at most `window` unacknowledged; rejects on the first error.
async function publishInvoked(client, items, window = 32) {
  const inFlight = new Set();
  let failure = null;
  for (const {channel, data} of items) {
    if (failure) break;
    const p = client.socket.invokePublish(channel, data).then(
      () => { inFlight.delete(p); },
      (error) => { inFlight.delete(p); failure = failure || error; });
    inFlight.add(p);
    if (inFlight.size >= window) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  if (failure) throw new Error(`${client.name}'s invokePublish failed: ${failure.name}: ${failure.message}${client.lost()}`);
}

// The conformance app's procedure serverPublish (exchange.transmitPublish on the server) for
// every item, one after the other (the app runs procedures concurrently: one at a time keeps
// their order).
async function publishByServer(client, items) {
  for (const {channel, data} of items) {
    try {
      await client.socket.invoke('serverPublish', {channel, data});
    } catch (error) {
      throw new Error(`${client.name}'s serverPublish failed: ${error.name}: ${error.message}${client.lost()}`);
    }
  }
}

// transmitPublish of every item, with an invokePublish every `chunk` items whose acknowledgement
// (the server handles one socket's messages in order) bounds what waits on the server.
async function publishTransmitted(client, items, chunk = 50) {
  for (let i = 0; i < items.length; i++) {
    const {channel, data} = items[i];
    if ((i + 1) % chunk === 0 || i === items.length - 1) {
      try {
        await client.socket.invokePublish(channel, data);
      } catch (error) {
        throw new Error(`${client.name}'s invokePublish failed: ${error.name}: ${error.message}${client.lost()}`);
      }
    } else {
      client.socket.transmitPublish(channel, data);
    }
  }
}

// Every publisher publishes `count` messages on every channel (interleaved across channels),
// by mode: invoke (invokePublish, 32 unacknowledged at most), transmit (transmitPublish) or
// server (the app's serverPublish procedure: a server-side publish); then fenceAndCount. subs: the Subscriptions that should receive (each on one of the channels).
async function exchange({tag = unique('x'), publishers, subs, channels, count, mode = 'invoke', timeoutMs = 60000}) {
  const started = Date.now();
  const lateFrom = late.length;
  await Promise.all(publishers.map((pub) => {
    const items = [];
    for (let s = 0; s < count; s++) {
      for (const channel of channels) items.push({channel, data: {tag, p: pub.name, s}});
    }
    if (mode === 'server') return publishByServer(pub, items);
    return mode === 'transmit' ? publishTransmitted(pub, items) : publishInvoked(pub, items);
  }));
  const report = await fenceAndCount({tag, publishers, subs, channels, count: () => count, timeoutMs, lateFrom,
    fence: mode === 'server' ? (pub, channel, data) => pub.socket.invoke('serverPublish', {channel, data}) : undefined});
  report.ms = Date.now() - started;
  return report;
}

// Each publisher publishes a fence on every channel after what it published of tag; once every
// subscription has every publisher's fence (or after timeoutMs: a failure), counts (count_)
// what arrived of tag, and closes tag (anything of it arriving later is late).
async function fenceAndCount({tag, publishers, subs, channels, count, expectedFrom = () => 0, timeoutMs = 60000, lateFrom = late.length,
  fence = (pub, channel, data) => pub.socket.invokePublish(channel, data)}) {
  await Promise.all(publishers.map((pub) => Promise.all(channels.map((channel) =>
    fence(pub, channel, {tag, p: pub.name, fence: true})))));
  const missingFences = () => {
    const missing = [];
    for (const sub of subs) {
      for (const pub of publishers) {
        if (!sub.fences.get(`${tag}/${pub.name}`)) missing.push(`${pub.name} -> ${sub.name}`);
      }
    }
    return missing;
  };
  let fenceError = null;
  try {
    await waitFor(() => missingFences().length === 0, timeoutMs,
      () => `the fences of ${tag} (missing ${missingFences().length}: ${missingFences().slice(0, 5).join(', ')}${missingFences().length > 5 ? ', ...' : ''})`);
  } catch (error) {
    fenceError = error;
  }
  const report = count_({tag, publishers, subs, expectedFrom, count, lateFrom});
  for (const sub of subs) {
    for (const pub of publishers) {
      const n = sub.fences.get(`${tag}/${pub.name}`) || 0;
      if (n > 1) {
        report.duplicated += n - 1;
        report.problems.push(`${sub.name} got ${pub.name}'s fence ${n} times`);
      }
    }
  }
  closedTags.add(tag);
  report.fenceError = fenceError && fenceError.message;
  return report;
}

// Counts what each subscription received of tag from each publisher, against the sequence
// numbers expectedFrom(pub, sub) .. count(pub)-1 (what was published from then on must be
// there; anything earlier may be missing but must not be duplicated or out of order). Late
// arrivals of earlier exchanges since index lateFrom of `late` count too.
function count_({tag, publishers, subs, expectedFrom = () => 0, count, lateFrom = late.length}) {
  // expected/received: the publications that must arrive (once each) and those of them that did;
  // delivered: every publication of tag that arrived, duplicates included.
  const report = {tag, expected: 0, received: 0, delivered: 0, lost: 0, duplicated: 0, disordered: 0, problems: [], lateFrom,
    get late() { return late.slice(this.lateFrom); }};
  for (const sub of subs) {
    const mine = sub.take(tag);
    for (const pub of publishers) {
      const seqs = mine.filter((d) => d.p === pub.name).map((d) => d.s);
      const seen = new Set();
      let last = -1;
      let dups = 0;
      let disorder = 0;
      for (const s of seqs) {
        if (seen.has(s)) { dups++; continue; }
        seen.add(s);
        if (s < last) disorder++;
        last = Math.max(last, s);
      }
      const from = expectedFrom(pub, sub);
      const n = count(pub);
      let lost = 0;
      const missing = [];
      for (let s = from; s < n; s++) {
        if (!seen.has(s)) {
          lost++;
          if (missing.length < 5) missing.push(s);
        }
      }
      report.expected += n - from;
      report.received += n - from - lost;
      report.delivered += seqs.length;
      report.lost += lost;
      report.duplicated += dups;
      report.disordered += disorder;
      if (lost || dups || disorder) {
        report.problems.push(`${pub.name}@${pub.instance.name} -> ${sub.name}: ${lost} lost` +
          `${missing.length ? ` (e.g. #${missing.join(', #')})` : ''}, ${dups} duplicated, ${disorder} out of order` +
          ` (received ${seqs.length}, first ${seqs.slice(0, 8).join(',')})`);
      }
    }
  }
  return report;
}

function summary(report) {
  return `expected ${report.expected}, received ${report.received}, lost ${report.lost}, ` +
    `duplicated ${report.duplicated}, out of order ${report.disordered}, late ${report.late.length}` +
    (report.ms != null ? `, ${report.ms} ms` : '');
}

// Fails with the details when anything was lost, duplicated, out of order or late.
function assertClean(report, what) {
  const bad = report.lost || report.duplicated || report.disordered || report.late.length || report.fenceError;
  if (!bad) return;
  const details = [
    `${what}: ${summary(report)}`,
    ...(report.fenceError ? [report.fenceError] : []),
    ...report.problems.slice(0, 20),
    ...(report.problems.length > 20 ? [`... ${report.problems.length - 20} more`] : []),
    ...report.late.slice(0, 5).map((l) => `late: ${JSON.stringify(l.data)} at ${l.sub}`)
  ];
  throw new Error(details.join('\n  '));
}

// Publishes probes (every intervalMs, from every publisher on every channel of subs) until
// every subscription has had a probe from every publisher; resolves with the ms it took.
async function probeUntilFlowing({publishers, subs, timeoutMs = 60000, intervalMs = 300, beforeEach}) {
  const tag = unique('probe');
  const started = Date.now();
  const channels = [...new Set(subs.map((s) => s.channelName))];
  const missing = () => {
    const out = [];
    for (const sub of subs) {
      for (const pub of publishers) if (!sub.probes.has(`${tag}/${pub.name}`)) out.push(`${pub.name} -> ${sub.name}`);
    }
    return out;
  };
  let round = 0;
  let lastError = null;
  for (;;) {
    if (beforeEach) {
      try { await beforeEach(); } catch (error) { lastError = error; }
    }
    for (const pub of publishers) {
      for (const channel of channels) {
        pub.socket.invokePublish(channel, {tag, p: pub.name, probe: true, round}).catch((error) => { lastError = error; });
      }
    }
    round++;
    try {
      // (Probes of earlier rounds may still arrive: they are not counted as late.)
      await waitFor(() => missing().length === 0, intervalMs, 'probes');
      return Date.now() - started;
    } catch {
      if (Date.now() - started > timeoutMs) {
        const m = missing();
        throw new Error(`publications did not flow within ${timeoutMs} ms (${round} probe rounds); ` +
          `missing ${m.length}: ${m.slice(0, 6).join(', ')}${m.length > 6 ? ', ...' : ''}` +
          (lastError ? `; last error: ${lastError.name}: ${lastError.message}` : ''));
      }
    }
  }
}

// `rounds` times, on a fresh channel each: every client of `subscribers` (one instance's, or
// several) subscribes at once and, as soon as all subscriptions resolved, `publisher` (a client
// of another instance) publishes one message; probes after it then tell whether it arrived.
// Resolves with the count_ report of all rounds together (a lost message: a subscribe that was
// acknowledged before Redis had it).
async function subscribeThenPublish({subscribers, publisher, rounds = 10, prefix = 'fresh'}) {
  const total = {expected: 0, received: 0, delivered: 0, lost: 0, duplicated: 0, disordered: 0, problems: [], late: []};
  for (let round = 0; round < rounds; round++) {
    const channel = unique(prefix);
    const subs = await Promise.all(subscribers.map((c) => c.subscribe(channel)));
    await publisher.socket.invokePublish(channel, {tag: channel, p: publisher.name, s: 0});
    await probeUntilFlowing({publishers: [publisher], subs, timeoutMs: 20000});
    const report = count_({tag: channel, publishers: [publisher], subs, count: () => 1});
    closedTags.add(channel);
    for (const key of ['expected', 'received', 'delivered', 'lost', 'duplicated', 'disordered']) total[key] += report[key];
    total.problems.push(...report.problems);
    total.late.push(...report.late);
    for (const c of subscribers) c.unsubscribe(channel);
  }
  return total;
}

// Does a Redis channel name stand for a SocketCluster channel? It holds the name, not followed
// by more of a name (so that x-1 does not match the Redis channel of x-10).
function mentions(redisChannel, channel) {
  const at = redisChannel.indexOf(channel);
  return at >= 0 && !/^[0-9A-Za-z_-]/.test(redisChannel.slice(at + channel.length));
}

// The channels subscribed on a Redis server (PUBSUB CHANNELS, or with sharded: PUBSUB
// SHARDCHANNELS), all or those standing for one SocketCluster channel.
async function redisChannels(redis, {channel, sharded = false} = {}) {
  const all = lines(await redis.cli('pubsub', sharded ? 'shardchannels' : 'channels', channel ? `*${channel}*` : '*'));
  return channel ? all.filter((c) => mentions(c, channel)) : all;
}

// On one instance, two clients hand a channel over to each other `cycles` times: the only local
// subscriber unsubscribes and, at once, the other subscribes (the instance's last subscriber
// leaves as a new one comes); each time, once the subscribe resolved, `publisher` (a client of
// another instance) publishes one message that the new subscriber must get. Runs on every
// channel at once; a channel stops at its first failure. Resolves with the failures (strings,
// each with what Redis holds for the channel then: describe(channel)).
async function handoverChurn({publisher, a, b, channels, cycles = 10, describe}) {
  const failures = [];
  let handovers = 0;
  await Promise.all(channels.map(async (channel) => {
    let [current, next] = [a, b];
    await current.subscribe(channel);
    for (let cycle = 1; cycle <= cycles; cycle++) {
      current.unsubscribe(channel);
      await next.subscribe(channel);
      const report = await exchange({publishers: [publisher], subs: [next.subs.get(channel)], channels: [channel],
        count: 1, timeoutMs: 5000});
      handovers++;
      if (report.lost || report.duplicated || report.fenceError) {
        failures.push(`${channel}, handover ${cycle} (${current.name} left, ${next.name} came): ` +
          `${summary(report)}; ${describe ? await describe(channel) : ''}`);
        break;
      }
      [current, next] = [next, current];
    }
    next.unsubscribe(channel);
    current.unsubscribe(channel);
  }));
  return {handovers, failures};
}

// For a failure message: which Redis channels stand for a SocketCluster channel, and how many
// connections subscribe each (PUBSUB NUMSUB / SHARDNUMSUB), on every server given.
async function describeRedisChannel(servers, channel, sharded = false) {
  const out = [];
  for (const redis of servers) {
    try {
      for (const name of await redisChannels(redis, {channel, sharded})) {
        const reply = lines(await redis.cli('pubsub', sharded ? 'shardnumsub' : 'numsub', name));
        out.push(`${name}: ${reply[1]} subscribed connection(s) on port ${redis.port}`);
      }
    } catch (error) {
      out.push(`port ${redis.port}: ${error.message}`);
    }
  }
  return `Redis now: ${out.length ? out.join('; ') : `no Redis channel for ${channel}`}`;
}

// Warnings and errors the instances logged since they were READY, for a failing test's message.
function logProblems(instances, max = 15) {
  const out = [];
  for (const instance of instances) {
    let text = '';
    try { text = fs.readFileSync(instance.logFile).subarray(instance.logOffset || 0).toString('utf8'); } catch { continue; }
    const bad = text.split('\n').filter((l) => /\b(WARNING|ERROR|SEVERE)\b|Exception/.test(l));
    if (bad.length) out.push(`${instance.name} (${instance.logFile}):`, ...bad.slice(-max).map((l) => `  ${l}`));
    const each = instance.warnings ? instance.warnings() : [];
    if (each.length) out.push(`${instance.name}, each warning (trace.log):`, ...each.slice(-max).map((l) => `  ${l}`));
  }
  return out.join('\n');
}

// The tests of one file: each failure's message ends with the warnings and errors its instances
// logged; after the file, its clients, instances and Redis are stopped.
function suite(state) {
  const {test, after} = require('node:test');
  after(async () => {
    closeAllClients();
    if (state.closeClients) state.closeClients();
    await stopAll(state.instances);
    if (state.redis) await state.redis.stop();
  }, {timeout: 180000});
  return function check(name, fn, timeout = 120000) {
    test(name, {timeout}, async (t) => {
      try {
        await fn(t);
      } catch (error) {
        const problems = logProblems(state.instances);
        if (problems) error.message += `\nwarnings and errors of the instances:\n${problems}`;
        throw error;
      }
    });
  };
}

module.exports = {
  ROOT, LOG_DIR, PREFIX, sleep, unique, withTimeout, until, freePort,
  Redis, startRedis, startRedisCluster, redisCli, redisChannels, mentions, describeRedisChannel,
  Instance, startInstances, untilPubSub, describeStarts, stopAll,
  Client, connectClients, closeAllClients, waitFor, notify, late, closedTags,
  publishInvoked, publishTransmitted, publishByServer, handoverChurn, exchange, fenceAndCount, count_, subscribeThenPublish, summary, assertClean, probeUntilFlowing,
  logProblems, suite
};
