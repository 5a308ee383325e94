'use strict';
// The demo page (src/main/webapp) in headless Chromium: two pages sign in as two users, see each
// other as connected, and a message sent in one appears in the other (both ways); switching to
// another channel leaves the first one's messages behind. Screenshots of both pages go to
// SCREENSHOT_DIR.
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

async function openAs(name, room = 'general') {
  // One browser context per user: separate storage, like two people on two machines.
  const context = await browser.newContext({viewport: {width: 1000, height: 640}});
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
  await page.selectOption('#signin-room', room);
  await page.click('#signin button[type=submit]');
  await page.locator('#chat').waitFor({state: 'visible'});
  return page;
}

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
    await page.locator('#people li[data-name="alice"].here').waitFor();
    await page.locator('#people li[data-name="bob"].here').waitFor();
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

  // Bob moves to #random: alice sees where he is; what she says in #general no longer reaches him.
  await bob.click('#rooms button[data-room="random"]');
  await bob.locator('#room-title', {hasText: '#random'}).waitFor();
  await alice.locator('#people li[data-name="bob"]:not(.here)', {hasText: '#random'}).waitFor();
  await send(alice, 'Anyone still in general?');
  await message(alice, 'alice', 'Anyone still in general?').waitFor();
  await send(bob, 'I am in random now');
  await message(bob, 'bob', 'I am in random now').waitFor();
  assert.equal(await message(bob, 'alice', 'Anyone still in general?').count(), 0);
  assert.equal(await message(alice, 'bob', 'I am in random now').count(), 0);

  assert.deepEqual(problems, []);
});
