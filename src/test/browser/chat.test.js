'use strict';
// The demo page (src/main/webapp) in headless Chromium, on a server that keeps history and
// presence for chat/* (.ci/verify-step browser sets them):
// - two pages sign in as two users, see each other as here, and a message sent in one appears in
//   the other (both ways); switching to another channel leaves the first one behind;
// - a page that joins after messages were sent shows them (#history) before the live ones, each
//   once; who is here (#presence and its notifications) drops a page that closes;
// - a page whose connection drops while the other page sends shows what it missed, once each and
//   in order, once the client has reconnected by itself, and says how many it recovered;
// - without js/socketcluster-client.min.js (a build without npm) the page says so.
// Screenshots of the pages go to SCREENSHOT_DIR.
//
//   BASE_URL=http://127.0.0.1:PORT/ SCREENSHOT_DIR=target/browser node --test chat.test.js
//
// CHROMIUM: the browser binary (default /usr/bin/chromium, Debian's package: playwright's own
// browser download does not work here).
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const {chromium} = require('playwright-core');

const baseUrl = process.env.BASE_URL || 'http://127.0.0.1:9080/';
const screenshots = path.resolve(process.env.SCREENSHOT_DIR || 'screenshots');
const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
const TIMEOUT = 10000;

let browser;
const pages = [];
const problems = [];

const DEFAULT_ROOMS = ['general', 'random', 'help'];
// socketcluster-client's own wait before it reconnects after a lost connection: 10 to 20 s.
const RECONNECT_TIMEOUT = 45000;
// Channels of this run's own (the server may have kept others' history).
const run = Date.now().toString(36);

async function openAs(name, room = 'general') {
  // One browser context per user: separate storage, like two people on two machines.
  const context = await browser.newContext({viewport: {width: 1000, height: 640}});
  // The page's WebSockets, so that a test can cut its connection as a network would.
  await context.addInitScript(() => {
    const Native = window.WebSocket;
    window.testSockets = [];
    window.WebSocket = class extends Native {
      constructor(...args) {
        super(...args);
        window.testSockets.push(this);
      }
    };
  });
  const page = await context.newPage();
  page.setDefaultTimeout(TIMEOUT);
  page.on('pageerror', (error) => problems.push(`${name}: page error: ${error.message}`));
  page.on('response', (response) => {
    if (response.status() >= 400) {
      problems.push(`${name}: HTTP ${response.status()} for ${response.url()}`);
    }
  });
  page.on('console', (message) => {
    if (message.type() === 'error') {
      problems.push(`${name}: console error: ${message.text()}`);
    }
  });
  pages.push(page);
  await page.goto(baseUrl);
  await page.locator('body[data-client]').waitFor({state: 'attached'});
  assert.equal(await page.locator('body').getAttribute('data-client'), 'loaded',
    'the page has no js/socketcluster-client.min.js (the frontend step of the build did not run)');
  await page.locator('#status[data-state="online"]').waitFor();
  await page.fill('#name', name);
  await page.selectOption('#signin-room', DEFAULT_ROOMS.includes(room) ? room : 'help');
  await page.click('#signin button[type=submit]');
  await page.locator('#chat').waitFor({state: 'visible'});
  if (!DEFAULT_ROOMS.includes(room)) {
    // A channel of the test's own, so that what other tests sent is not in its history.
    await page.fill('#new-room-name', room);
    await page.click('#new-room button[type=submit]');
  }
  await page.locator('#room-title', {hasText: '#' + room}).waitFor();
  await here(page, name).waitFor();
  return page;
}

// The entry of NAME in the page's who-is-here list.
const here = (page, name) => page.locator(`#people li[data-name="${name}"]`);

// The texts of the messages the page shows, in order.
const texts = (page) => page.locator('#messages li:not(.system) .text').allTextContents();

async function send(page, text) {
  await page.fill('#text', text);
  await page.click('#send button[type=submit]');
}

const message = (page, from, text) =>
  page.locator('#messages li', {hasText: text}).and(page.locator(`[data-from="${from}"]`));

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
  if (browser) {
    await browser.close();
  }
});

test('two users chat through agserver', async () => {
  const alice = await openAs('alice');
  const bob = await openAs('bob');

  // Presence: each page lists both users, in #general.
  for (const page of [alice, bob]) {
    await here(page, 'alice').waitFor();
    await here(page, 'bob').waitFor();
    assert.equal(await page.locator('#room-title').textContent(), '#general');
  }

  await send(alice, 'Hello Bob, this is Alice');
  await message(bob, 'alice', 'Hello Bob, this is Alice').waitFor();
  await message(alice, 'alice', 'Hello Bob, this is Alice').waitFor(); // the sender's own copy
  assert.equal(await message(alice, 'alice', 'Hello Bob').getAttribute('class'), 'mine');
  assert.equal(await message(bob, 'alice', 'Hello Bob').getAttribute('class'), 'theirs');

  await send(bob, 'Hi Alice! <b>not bold</b>');
  await message(alice, 'bob', 'Hi Alice! <b>not bold</b>').waitFor();
  assert.equal(await alice.locator('#messages b').count(), 0, 'message text is shown as text');

  fs.mkdirSync(screenshots, {recursive: true});
  await alice.screenshot({path: path.join(screenshots, 'chat-alice.png')});
  await bob.screenshot({path: path.join(screenshots, 'chat-bob.png')});

  // Bob moves to #random: he is no longer here for alice; what she says in #general no longer
  // reaches him.
  await bob.click('#rooms button[data-room="random"]');
  await bob.locator('#room-title', {hasText: '#random'}).waitFor();
  await here(alice, 'bob').waitFor({state: 'detached'});
  await here(bob, 'bob').waitFor();
  assert.equal(await here(bob, 'alice').count(), 0);
  await send(alice, 'Anyone still in general?');
  await message(alice, 'alice', 'Anyone still in general?').waitFor();
  await send(bob, 'I am in random now');
  await message(bob, 'bob', 'I am in random now').waitFor();
  assert.equal(await message(bob, 'alice', 'Anyone still in general?').count(), 0);
  assert.equal(await message(alice, 'bob', 'I am in random now').count(), 0);

  assert.deepEqual(problems, []);
});

test('a page that joins shows the recent messages, and who is here follows presence', async () => {
  const carol = await openAs('carol', 'history-' + run);
  for (const text of ['first', 'second', 'third']) {
    await send(carol, text);
    await message(carol, 'carol', text).waitFor();
  }

  // Dave joins afterwards: the three come from the channel's history, in order, once each.
  const dave = await openAs('dave', 'history-' + run);
  await message(dave, 'carol', 'third').waitFor();
  assert.deepEqual(await texts(dave), ['first', 'second', 'third']);
  for (const page of [carol, dave]) {
    await here(page, 'carol').waitFor();
    await here(page, 'dave').waitFor();
  }
  assert.equal(await here(dave, 'dave').textContent(), 'dave (you)');

  // Then the live ones, without the history again.
  await send(carol, 'fourth');
  await message(dave, 'carol', 'fourth').waitFor();
  assert.deepEqual(await texts(dave), ['first', 'second', 'third', 'fourth']);
  await dave.screenshot({path: path.join(screenshots, 'chat-history-dave.png')});

  // Dave closes his page: he leaves carol's list.
  await dave.context().close();
  await here(carol, 'dave').waitFor({state: 'detached'});
  await here(carol, 'carol').waitFor();
  await carol.screenshot({path: path.join(screenshots, 'chat-presence-carol.png')});

  assert.deepEqual(problems, []);
});

test('a page whose connection drops shows what it missed once each after it reconnects', async () => {
  const erin = await openAs('erin', 'recovery-' + run);
  const frank = await openAs('frank', 'recovery-' + run);
  await here(erin, 'frank').waitFor();
  await send(erin, 'before the cut');
  await message(frank, 'erin', 'before the cut').waitFor();

  // Frank's connection is cut (closed with a code the client does not take as final, so it
  // reconnects by itself after its usual delay, as after a network failure): erin sees him go.
  const sockets = await frank.evaluate(() => window.testSockets.length);
  await frank.evaluate(() => window.testSockets.at(-1).close(3000, 'cut by the test'));
  await frank.locator('#status[data-state="reconnecting"]').waitFor();
  await here(erin, 'frank').waitFor({state: 'detached'});

  // Erin sends three while frank is away (the server confirmed each).
  const missed = ['missed one', 'missed two', 'missed three'];
  for (const text of missed) {
    await send(erin, text);
    await message(erin, 'erin', text).waitFor();
  }
  assert.equal(await frank.locator('#status').getAttribute('data-state'), 'reconnecting',
    'frank reconnected before erin had sent (the client waits 10 s at least)');
  assert.equal(await frank.evaluate(() => window.testSockets.length), sockets);

  // Frank's client reconnects on its own and resubscribes from where the page was: the three
  // come once each, in order, and the page says how many it recovered.
  await frank.locator('#status[data-state="online"]').waitFor({timeout: RECONNECT_TIMEOUT});
  await frank.locator('#sync[data-state="recovered"]').waitFor();
  assert.equal(await frank.locator('#sync').getAttribute('data-missed'), '3');
  assert.equal(await frank.locator('#sync').textContent(), 'recovered 3 missed messages');
  assert.deepEqual(await texts(frank), ['before the cut', ...missed]);
  // Frank is back in erin's list (under his new socket id) and hers, and live again.
  await here(erin, 'frank').waitFor();
  await here(frank, 'erin').waitFor();
  await send(erin, 'welcome back');
  await message(frank, 'erin', 'welcome back').waitFor();
  assert.deepEqual(await texts(frank), ['before the cut', ...missed, 'welcome back']);
  await frank.screenshot({path: path.join(screenshots, 'chat-recovered-frank.png')});

  assert.deepEqual(problems, []);
});

test('without the browser client the page says it is missing', async () => {
  const context = await browser.newContext({viewport: {width: 1000, height: 640}});
  const page = await context.newPage();
  page.setDefaultTimeout(TIMEOUT);
  const errors = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await page.route('**/js/socketcluster-client.min.js', (route) => route.fulfill({status: 404, body: ''}));
  await page.goto(baseUrl);
  await page.locator('body[data-client="missing"]').waitFor({state: 'attached'});
  await page.locator('#missing-client').waitFor();
  assert.equal(await page.locator('#signin button[type=submit]').isDisabled(), true);
  assert.deepEqual(errors, []);
  await context.close();
});
