'use strict';
// The admin page (src/main/webapp/WEB-INF/admin-page, README "Operations", "Admin page") in headless Chromium,
// on a server started with socketcluster.admin.password and an authKey the test signs tokens with
// (.ci/verify-step browser sets both and hands them over as ADMIN_PASSWORD and AUTH_KEY):
// - without the password, or with a wrong one, every /admin/ path answers 401 with the Basic
//   challenge; state-changing requests without the page's guard header are refused (403, 405);
// - official browser clients (the WAR's js/socketcluster-client.min.js, in a page of the test's
//   own) connect, sign in as two users and subscribe; the page's live figures count them, its
//   top channels list their channel, its chart has samples, its instance list has this instance;
// - a socket is found by id and by user; "Disconnect" closes one with 4100 and its client
//   reconnects by itself, "Kick" closes one with 4500 and its client stays away;
// - what the page publishes reaches a subscriber; invalid JSON is refused with 400.
// A screenshot of the page goes to SCREENSHOT_DIR/admin.png.
//
//   BASE_URL=http://127.0.0.1:PORT/ ADMIN_PASSWORD=... AUTH_KEY=... SCREENSHOT_DIR=target/browser \
//     node --test admin.test.js
const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const {chromium} = require('playwright-core');

const baseUrl = process.env.BASE_URL || 'http://127.0.0.1:9080/';
const password = process.env.ADMIN_PASSWORD;
const authKey = process.env.AUTH_KEY;
const screenshots = path.resolve(process.env.SCREENSHOT_DIR || 'screenshots');
const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
const TIMEOUT = 15000;
const run = Date.now().toString(36);

if (!password || !authKey) {
  throw new Error('set ADMIN_PASSWORD and AUTH_KEY (the server\'s socketcluster.admin.password and authKey)');
}

let browser;
const problems = [];

const basic = (user, pass) => 'Basic ' + Buffer.from(`${user}:${pass}`).toString('base64');

// An HS256 token as the server signs them (socketcluster.authKey, jsonwebtoken's format).
function token(payload) {
  const encode = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const body = `${encode({alg: 'HS256', typ: 'JWT'})}.${encode({...payload, iat: now, exp: now + 3600})}`;
  return `${body}.${crypto.createHmac('sha256', authKey).update(body).digest('base64url')}`;
}

// A document of the server's origin for the clients (the demo page would connect a socket of its
// own): the client script itself, opened as a page. (A page the test made up, fulfilled by
// Playwright, would not do: Chromium then refuses its WebSockets to a loopback address, as from a
// public site to the local network.)
async function clientsPage() {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.setDefaultTimeout(TIMEOUT);
  page.on('pageerror', (error) => problems.push(`clients page: ${error.message}`));
  const response = await page.goto(new URL('js/socketcluster-client.min.js', baseUrl).href);
  assert.equal(response.status(), 200,
    'the WAR has no js/socketcluster-client.min.js (the frontend step of the build did not run)');
  // The browser build is an ES module (the demo page imports it too).
  assert.equal(await page.evaluate(async () => {
    window.socketClusterClient = await import('/js/socketcluster-client.min.js');
    window.clients = {};
    return typeof window.socketClusterClient.create;
  }), 'function');
  return page;
}

// Connects an official client named NAME in the clients page; with user, it authenticates with a
// token of that user; with channel, it subscribes and keeps what it receives. Resolves with its id.
async function connect(page, name, {user, channel} = {}) {
  const signed = user ? token({username: user}) : null;
  return page.evaluate(async ({name, signed, channel}) => {
    const socket = window.socketClusterClient.create({
      hostname: location.hostname, port: Number(location.port), path: '/socketcluster/',
      // Its own token in the page's storage (by default the clients of a page share one).
      authTokenName: `token-${name}`,
      // A reconnect the test waits for: the client's own rule, with a short delay.
      autoReconnectOptions: {initialDelay: 200, randomness: 100, maxDelay: 1000}
    });
    const entry = {socket, received: [], closes: [], connects: 0};
    window.clients[name] = entry;
    (async () => {
      for await (const event of socket.listener('close')) {
        // The client has decided by now whether it reconnects (_destroy runs to its end first).
        entry.closes.push({code: event.code, reason: event.reason, reconnecting: socket.pendingReconnect});
      }
    })();
    (async () => {
      for await (const event of socket.listener('connect')) entry.connects++;
    })();
    await socket.listener('connect').once();
    if (signed) await socket.authenticate(signed);
    if (channel) {
      const subscription = socket.subscribe(channel);
      (async () => {
        for await (const data of subscription) entry.received.push(data);
      })();
      await subscription.listener('subscribe').once();
    }
    return socket.id;
  }, {name, signed, channel});
}

const client = (page, name) => page.evaluate((name) => {
  const {socket, received, closes, connects} = window.clients[name];
  return {id: socket.id, state: socket.state, received, closes, connects};
}, name);

async function until(check, label, ms = TIMEOUT) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${label}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function adminPage() {
  const context = await browser.newContext({
    viewport: {width: 1280, height: 900},
    httpCredentials: {username: 'operator', password}
  });
  const page = await context.newPage();
  page.setDefaultTimeout(TIMEOUT);
  page.on('pageerror', (error) => problems.push(`admin page: ${error.message}`));
  // Every refusal the page got, to compare with the ones the test caused (the browser also logs
  // each as a console error, which is why those are not counted twice).
  page.refusals = [];
  page.on('response', (response) => {
    if (response.status() >= 400) page.refusals.push(`${response.status()} ${new URL(response.url()).pathname}`);
  });
  page.on('console', (message) => {
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) {
      problems.push(`admin page: console error: ${message.text()}`);
    }
  });
  return page;
}

test.before(async () => {
  fs.mkdirSync(screenshots, {recursive: true});
  browser = await chromium.launch({
    executablePath,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync']
  });
});

test.after(async () => {
  if (browser) await browser.close();
});

test('without the password every admin path answers 401 with the Basic challenge', async () => {
  // (Two wrong passwords only: five in a minute would block this address for the next test.)
  const wrong = basic('operator', 'not the password');
  for (const where of ['admin', 'admin/', 'admin/admin.js', 'admin/api/figures', 'admin/api/publish']) {
    const attempts = where === 'admin/' || where === 'admin/api/figures' ? [undefined, wrong, 'Bearer x'] : [undefined];
    for (const authorization of attempts) {
      const response = await fetch(new URL(where, baseUrl), {
        headers: authorization ? {authorization} : {}, redirect: 'manual'
      });
      assert.equal(response.status, 401, `${where} with ${authorization || 'no credentials'}`);
      assert.equal(response.headers.get('www-authenticate'), 'Basic realm="agserver-admin", charset="UTF-8"');
      assert.equal(response.headers.get('cache-control'), 'no-store');
    }
  }
  // In the browser too: without credentials the page does not open (a headless browser has no
  // one to ask for them, and fails the navigation on the 401).
  const context = await browser.newContext();
  const page = await context.newPage();
  await assert.rejects(page.goto(new URL('admin/', baseUrl).href), /ERR_INVALID_AUTH_CREDENTIALS/);
  assert.equal(await page.locator('#figures').count(), 0);
  await context.close();
});

test('the admin page: live figures, find, disconnect, kick, publish', async () => {
  const clients = await clientsPage();
  const admin = await adminPage();
  const channel = `admin-test/${run}`;
  const alice = `alice-${run}`;
  const bob = `bob-${run}`;

  // What this instance held before the test's clients (another test file's may linger a moment).
  const before = await (await fetch(new URL('admin/api/figures', baseUrl),
    {headers: {authorization: basic('operator', password)}})).json();
  const ids = {
    alice: await connect(clients, 'alice', {user: alice}),
    bob: await connect(clients, 'bob', {user: bob, channel}),
    carol: await connect(clients, 'carol')
  };

  const response = await admin.goto(new URL('admin/', baseUrl).href);
  assert.equal(response.status(), 200);
  assert.equal(response.headers()['cache-control'], 'no-store');
  await admin.locator('body[data-state="live"]').waitFor();
  await admin.locator('#state[data-state="live"]').waitFor();

  // Live figures: the three sockets, bob's channel among the top channels, this one instance.
  await until(async () => Number(await admin.locator('#f-connections').getAttribute('data-value'))
    >= before.now.connections + 3, 'the page to count the three clients');
  assert.ok(Number(await admin.locator('#f-clients').getAttribute('data-value')) >= 3);
  assert.ok(Number(await admin.locator('#f-channels').getAttribute('data-value')) >= 1);
  await admin.locator(`#top-channels tr[data-channel="${channel}"]`).waitFor();
  assert.equal(await admin.locator(`#top-channels tr[data-channel="${channel}"] td.num`).textContent(), '1');
  const instanceId = await admin.locator('#instance-id').textContent();
  assert.match(instanceId, /^[a-z0-9._-]+-[0-9a-z]{4}$/);
  assert.equal(await admin.locator('#instance-engine').textContent(), 'memory');
  const own = admin.locator(`#instances tbody tr[data-id="${instanceId}"]`);
  await own.waitFor();
  assert.equal(await own.getAttribute('data-self'), 'true');
  assert.equal(await admin.locator('#instances tbody tr').count(), 1);
  // The chart draws the samples (one every 2 s): it has two once the page has seen two.
  await until(async () => Number(await admin.locator('#chart-connections').getAttribute('data-samples')) >= 2,
    'two samples in the chart');
  // Messages per second reflect the clients' traffic once a sample covers it.
  await until(async () => Number(await admin.locator('#f-in').getAttribute('data-value')) > 0
    || Number(await admin.locator('#f-out').getAttribute('data-value')) > 0, 'a message rate above 0');
  await admin.screenshot({path: path.join(screenshots, 'admin.png'), fullPage: true});

  // Find carol by id: not signed in, from the loopback address.
  await admin.selectOption('#find-by', 'id');
  await admin.fill('#find-query', ids.carol);
  await admin.click('#find button[type=submit]');
  const carolRow = admin.locator(`#find-results tbody tr[data-id="${ids.carol}"]`);
  await carolRow.waitFor();
  assert.equal(await admin.locator('#find-results tbody tr').count(), 1);
  assert.equal(await admin.locator('#find-status').textContent(), '1 found');
  assert.equal(await carolRow.locator('td').nth(2).textContent(), '(not signed in)');
  assert.match(await carolRow.locator('td').nth(1).textContent(), /^(127\.0\.0\.1|::1|0:0:0:0:0:0:0:1)$/);

  // Find bob by user: his socket, his channel.
  await admin.selectOption('#find-by', 'user');
  await admin.fill('#find-query', bob);
  await admin.click('#find button[type=submit]');
  const bobRow = admin.locator(`#find-results tbody tr[data-id="${ids.bob}"]`);
  await bobRow.waitFor();
  assert.equal(await admin.locator('#find-results tbody tr').count(), 1);
  assert.equal(await bobRow.locator('td').nth(2).textContent(), bob);
  assert.equal(await bobRow.locator('td').nth(4).textContent(), channel);

  // Find alice by user and disconnect her: close 4100, and her client reconnects by itself.
  await admin.fill('#find-query', alice);
  await admin.click('#find button[type=submit]');
  const aliceRow = admin.locator(`#find-results tbody tr[data-id="${ids.alice}"]`);
  await aliceRow.waitFor();
  await aliceRow.locator('button[data-mode="disconnect"]').click();
  await admin.locator(`#find-results tbody tr[data-id="${ids.alice}"][data-state="closed"]`).waitFor();
  assert.equal(await admin.locator('#find-status').textContent(),
    `${ids.alice} closed with 4100 (Disconnected by an administrator)`);
  const aliceClosed = await until(async () => (await client(clients, 'alice')).closes[0], 'alice\'s close');
  assert.deepEqual(aliceClosed, {code: 4100, reason: 'Disconnected by an administrator', reconnecting: true});
  const aliceBack = await until(async () => {
    const state = await client(clients, 'alice');
    return state.connects === 2 && state.state === 'open' ? state : null;
  }, 'alice\'s client to reconnect');
  assert.notEqual(aliceBack.id, ids.alice);

  // Kick carol: close 4500, and her client does not reconnect.
  await admin.selectOption('#find-by', 'id');
  await admin.fill('#find-query', ids.carol);
  await admin.click('#find button[type=submit]');
  await carolRow.locator('button[data-mode="kick"]').click();
  await admin.locator(`#find-results tbody tr[data-id="${ids.carol}"][data-state="closed"]`).waitFor();
  const carolClosed = await until(async () => (await client(clients, 'carol')).closes[0], 'carol\'s close');
  assert.deepEqual(carolClosed,
    {code: 4500, reason: 'Disconnected by an administrator; do not reconnect', reconnecting: false});
  assert.equal((await client(clients, 'carol')).state, 'closed');
  // Gone from this instance: looked up again, nothing.
  await admin.click('#find button[type=submit]');
  await admin.locator('#find-status', {hasText: '0 found'}).waitFor();

  // Publish to bob's channel: he receives it. Invalid JSON: 400, shown on the page.
  await admin.fill('#publish-channel', channel);
  await admin.fill('#publish-data', '{"text": "hello from the admin page", "n": 1}');
  await admin.click('#publish button[type=submit]');
  await admin.locator('#publish-status[data-state="ok"]').waitFor();
  assert.equal(await admin.locator('#publish-status').textContent(), `published to ${channel}`);
  await until(async () => (await client(clients, 'bob')).received.length === 1, 'bob to receive the publish');
  assert.deepEqual((await client(clients, 'bob')).received, [{text: 'hello from the admin page', n: 1}]);
  await admin.fill('#publish-data', '{"text": unquoted}');
  await admin.click('#publish button[type=submit]');
  await admin.locator('#publish-status[data-state="error"]').waitFor();
  assert.match(await admin.locator('#publish-status').textContent(), /^data is not JSON: /);
  assert.equal((await client(clients, 'bob')).received.length, 1);

  // The guards, from the page's own origin with its credentials: no guard header, 403; GET on an
  // action, 405; another origin's Origin, 403.
  const statuses = await admin.evaluate(async () => {
    const body = JSON.stringify({channel: 'x', data: '1'});
    const noGuard = await fetch('api/publish', {method: 'POST', body});
    const get = await fetch('api/publish');
    return {noGuard: noGuard.status, noGuardError: (await noGuard.json()).error, get: get.status,
      allow: get.headers.get('allow')};
  });
  assert.deepEqual(statuses, {noGuard: 403, get: 405, allow: 'POST',
    noGuardError: 'A state-changing request needs the header X-AGServer-Admin: 1 (the admin page sends it)'});
  const foreign = await fetch(new URL('admin/api/publish', baseUrl), {
    method: 'POST',
    headers: {authorization: basic('operator', password), 'x-agserver-admin': '1',
      origin: 'https://elsewhere.example', 'content-type': 'application/json'},
    body: JSON.stringify({channel, data: '"from elsewhere"'})
  });
  assert.equal(foreign.status, 403);
  assert.equal((await client(clients, 'bob')).received.length, 1);

  // The page after all this, for the record.
  await admin.screenshot({path: path.join(screenshots, 'admin-after.png'), fullPage: true});
  assert.deepEqual(problems, []);
  assert.deepEqual(admin.refusals, ['400 /admin/api/publish', '403 /admin/api/publish', '405 /admin/api/publish']);
  await clients.context().close();
  await admin.context().close();
});
