'use strict';
// The admin page: polls api/figures (this instance, with the samples it has not seen yet) and
// api/instances (every instance) every two seconds, draws the last ten minutes on two canvases,
// finds sockets (api/sockets), disconnects them (api/disconnect) and publishes (api/publish).
// The browser sends the page's Basic credentials with every request to its origin; requests that
// change something also carry X-AGServer-Admin: 1, which a form of another site cannot send.
(() => {
  const POLL_MS = 2000;
  const WINDOW_MS = 10 * 60 * 1000;
  const $ = (id) => document.getElementById(id);

  let samples = [];
  let sampleCapacity = 300;
  let lastSample = Number.MIN_SAFE_INTEGER;

  // ---- requests ----

  class HttpError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  async function request(path, {method = 'GET', body} = {}) {
    const headers = {'Accept': 'application/json'};
    if (method !== 'GET') {
      headers['X-AGServer-Admin'] = '1';
      headers['Content-Type'] = 'application/json';
    }
    const response = await fetch(path, {
      method, headers, credentials: 'same-origin', cache: 'no-store',
      body: body === undefined ? undefined : JSON.stringify(body)
    });
    let answer = null;
    try {
      answer = await response.json();
    } catch {
      // not JSON (a proxy's page, an empty answer)
    }
    if (!response.ok) {
      const message = answer && answer.error ? answer.error : `HTTP ${response.status}`;
      throw new HttpError(response.status, message);
    }
    return answer;
  }

  function problem(text) {
    const banner = $('problem');
    banner.textContent = text || '';
    banner.hidden = !text;
  }

  // ---- formatting ----

  const whole = new Intl.NumberFormat('en-US', {maximumFractionDigits: 0});
  const tenth = new Intl.NumberFormat('en-US', {maximumFractionDigits: 1});
  const num = (value) => (value == null ? '–' : whole.format(value));
  const rate = (value) => (value == null ? '–' : tenth.format(value));
  const time = (ms) => new Date(ms).toLocaleTimeString([], {hour12: false});
  const dateTime = (ms) => new Date(ms).toLocaleString([], {hour12: false});

  function setFigure(id, value, text) {
    const element = $(id);
    element.dataset.value = value == null ? '' : String(value);
    element.textContent = text;
  }

  function cell(row, text, className) {
    const td = document.createElement('td');
    td.textContent = text;
    if (className) td.className = className;
    row.appendChild(td);
    return td;
  }

  function emptyRow(tbody, columns, text) {
    const row = document.createElement('tr');
    row.className = 'empty';
    const td = cell(row, text);
    td.colSpan = columns;
    tbody.appendChild(row);
  }

  // ---- this instance ----

  function showInstance(instance) {
    $('instance-id').textContent = instance.id;
    $('instance-host').textContent = instance.host;
    $('instance-engine').textContent = instance.brokerEngine;
    $('instance-started').textContent = dateTime(instance.startedAt);
    const state = $('state');
    const name = instance.draining ? 'draining' : (instance.ready ? 'live' : 'not ready');
    state.dataset.state = instance.draining ? 'draining' : (instance.ready ? 'live' : 'error');
    state.textContent = name;
    document.title = `agserver admin: ${instance.id}`;
  }

  function showFigures(answer) {
    const now = answer.now;
    const rates = answer.rates || {};
    setFigure('f-connections', now.connections, num(now.connections));
    setFigure('f-clients', now.clients, num(now.clients));
    setFigure('f-channels', now.channels, num(now.channels));
    setFigure('f-subscriptions', now.subscriptions, num(now.subscriptions));
    setFigure('f-in', rates.messagesInPerSecond, rate(rates.messagesInPerSecond));
    setFigure('f-out', rates.messagesOutPerSecond, rate(rates.messagesOutPerSecond));
    setFigure('f-publishes', rates.publishesPerSecond, rate(rates.publishesPerSecond));
    setFigure('f-deliveries', rates.deliveriesPerSecond, rate(rates.deliveriesPerSecond));
    setFigure('f-rpcs', rates.rpcsPerSecond, rate(rates.rpcsPerSecond));
    setFigure('f-waiting', now.outboundWaitingCharacters, num(now.outboundWaitingCharacters));
    const cutOff = now.cutOffOutboundBuffer + now.cutOffSendTimeout;
    setFigure('f-cutoff', cutOff, num(cutOff));
    setFigure('f-ratelimited', now.rateLimitedMessages, num(now.rateLimitedMessages));
    $('updated').textContent = `at ${time(now.at)}`;

    const channels = $('top-channels').tBodies[0];
    channels.replaceChildren();
    for (const {channel, subscribers} of answer.topChannels) {
      const row = document.createElement('tr');
      row.dataset.channel = channel;
      cell(row, channel, 'mono');
      cell(row, num(subscribers), 'num');
      channels.appendChild(row);
    }
    if (!answer.topChannels.length) emptyRow(channels, 2, 'no channel has a subscriber');

    const slow = $('slow-consumers').tBodies[0];
    slow.replaceChildren();
    for (const socket of answer.slowConsumers) {
      const row = document.createElement('tr');
      row.dataset.id = socket.id;
      const id = cell(row, '', 'mono');
      const link = document.createElement('a');
      link.href = '#find';
      link.textContent = socket.id;
      link.addEventListener('click', () => {
        $('find-by').value = 'id';
        $('find-query').value = socket.id;
        find();
      });
      id.appendChild(link);
      cell(row, socket.remoteAddress || '');
      cell(row, num(socket.waitingCharacters), 'num');
      cell(row, num(socket.waitingFrames), 'num');
      slow.appendChild(row);
    }
    if (!answer.slowConsumers.length) emptyRow(slow, 4, 'nothing waits for any socket');
  }

  function addSamples(answer) {
    sampleCapacity = answer.sampleCapacity || sampleCapacity;
    for (const sample of answer.samples) {
      if (sample.t > lastSample) {
        samples.push(sample);
        lastSample = sample.t;
      }
    }
    const oldest = lastSample - WINDOW_MS;
    samples = samples.filter((s) => s.t >= oldest).slice(-sampleCapacity);
  }

  // ---- charts (drawn by hand: lines over the last ten minutes, one scale per chart) ----

  const COLORS = ['#3559d6', '#2f9d6a', '#d08a1c'];

  // The step of four grid lines that cover VALUE: 1, 2 or 5 times a power of ten (at least 1
  // for counts).
  function niceStep(value, whole) {
    const raw = value > 0 ? value / 4 : 0.25;
    const power = Math.pow(10, Math.floor(Math.log10(raw)));
    const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw);
    return whole ? Math.max(1, Math.ceil(step)) : step;
  }

  function draw(canvasId, legendId, series, format, whole) {
    const canvas = $(canvasId);
    const ratio = window.devicePixelRatio || 1;
    const width = canvas.clientWidth || canvas.width;
    const height = canvas.clientHeight || canvas.height;
    if (canvas.width !== Math.round(width * ratio) || canvas.height !== Math.round(height * ratio)) {
      canvas.width = Math.round(width * ratio);
      canvas.height = Math.round(height * ratio);
    }
    const g = canvas.getContext('2d');
    g.setTransform(ratio, 0, 0, ratio, 0, 0);
    g.clearRect(0, 0, width, height);
    const left = 52;
    const right = 8;
    const top = 8;
    const bottom = 22;
    const plotWidth = width - left - right;
    const plotHeight = height - top - bottom;
    const end = samples.length ? samples[samples.length - 1].t : Date.now();
    const start = end - WINDOW_MS;
    let max = 0;
    for (const s of samples) {
      for (const {value} of series) max = Math.max(max, value(s));
    }
    const step = niceStep(max, whole);
    max = step * 4;
    const x = (t) => left + ((t - start) / WINDOW_MS) * plotWidth;
    const y = (v) => top + plotHeight - (v / max) * plotHeight;

    g.font = '11px system-ui, sans-serif';
    g.strokeStyle = '#e1e5ec';
    g.fillStyle = '#6a7385';
    g.lineWidth = 1;
    g.textAlign = 'right';
    g.textBaseline = 'middle';
    for (let i = 0; i <= 4; i++) {
      const v = step * i;
      const py = Math.round(y(v)) + 0.5;
      g.beginPath();
      g.moveTo(left, py);
      g.lineTo(left + plotWidth, py);
      g.stroke();
      g.fillText(format(v), left - 6, py);
    }
    g.textBaseline = 'top';
    for (let minutes = 10; minutes >= 0; minutes -= 2) {
      g.textAlign = minutes === 10 ? 'left' : (minutes === 0 ? 'right' : 'center');
      g.fillText(minutes === 0 ? 'now' : `-${minutes} min`, x(end - minutes * 60000), top + plotHeight + 6);
    }

    series.forEach(({value}, index) => {
      g.strokeStyle = COLORS[index % COLORS.length];
      g.lineWidth = 2;
      g.lineJoin = 'round';
      g.beginPath();
      let drawn = 0;
      for (const s of samples) {
        if (s.t < start) continue;
        const px = x(s.t);
        const py = y(value(s));
        if (drawn++ === 0) g.moveTo(px, py); else g.lineTo(px, py);
      }
      if (drawn === 1) g.lineTo(x(end) + 0.01, y(value(samples[samples.length - 1])));
      g.stroke();
    });

    const legend = $(legendId);
    legend.replaceChildren();
    const latest = samples[samples.length - 1];
    series.forEach(({name, value}, index) => {
      const item = document.createElement('span');
      const swatch = document.createElement('span');
      swatch.className = `swatch c${index}`;
      item.appendChild(swatch);
      item.appendChild(document.createTextNode(`${name}: ${latest ? format(value(latest)) : '–'}`));
      legend.appendChild(item);
    });
    canvas.dataset.samples = String(samples.length);
  }

  function drawCharts() {
    draw('chart-connections', 'legend-connections', [
      {name: 'connections', value: (s) => s.connections},
      {name: 'channels', value: (s) => s.channels}
    ], (v) => num(v), true);
    draw('chart-messages', 'legend-messages', [
      {name: 'messages in / s', value: (s) => s.in},
      {name: 'messages out / s', value: (s) => s.out},
      {name: 'publishes / s', value: (s) => s.publishes}
    ], (v) => rate(v), false);
  }

  // ---- every instance ----

  function showInstances(answer) {
    const tbody = $('instances').tBodies[0];
    tbody.replaceChildren();
    for (const instance of answer.instances) {
      const row = document.createElement('tr');
      row.dataset.id = instance.id;
      row.dataset.self = String(instance.id === answer.self);
      row.dataset.connections = String(instance.connections);
      cell(row, instance.id, 'mono');
      cell(row, instance.host);
      cell(row, num(instance.connections), 'num');
      cell(row, num(instance.channels), 'num');
      cell(row, rate(instance.messagesInPerSecond), 'num');
      cell(row, rate(instance.messagesOutPerSecond), 'num');
      cell(row, rate(instance.publishesPerSecond), 'num');
      cell(row, rate(instance.deliveriesPerSecond), 'num');
      cell(row, num(instance.slowConsumersCutOff), 'num');
      cell(row, dateTime(instance.startedAt));
      cell(row, instance.draining ? 'draining' : `seen ${time(instance.updatedAt)}`);
      tbody.appendChild(row);
    }
    const note = $('instances-note');
    if (answer.error) {
      note.textContent = `(the broker could not be read: ${answer.error})`;
      note.dataset.state = 'error';
    } else {
      note.textContent = answer.brokerEngine === 'redis'
        ? `(${answer.instances.length} on Redis; finding and disconnecting act on the instance this page is served from)`
        : '(this one: the memory broker engine has no others)';
      note.dataset.state = '';
    }
  }

  // ---- polling ----

  // A page nobody looks at (a background tab) does not poll: each poll walks every socket of the
  // instance. It catches up with ?since= when it is shown again.
  async function poll() {
    if (document.hidden) {
      document.addEventListener('visibilitychange', poll, {once: true});
      return;
    }
    try {
      const since = samples.length ? `?since=${lastSample}` : '';
      const [figures, instances] = await Promise.all([
        request(`api/figures${since}`),
        request('api/instances')
      ]);
      showInstance(figures.instance);
      showFigures(figures);
      addSamples(figures);
      drawCharts();
      showInstances(instances);
      document.body.dataset.state = 'live';
      problem('');
    } catch (error) {
      document.body.dataset.state = 'error';
      $('state').dataset.state = 'error';
      $('state').textContent = 'no answer';
      problem(error.status === 401 || error.status === 429
        ? `The server refused the page's requests (${error.message}): reload the page to sign in again.`
        : `The figures could not be read: ${error.message}`);
    } finally {
      setTimeout(poll, POLL_MS);
    }
  }

  // ---- find and disconnect ----

  function status(id, state, text) {
    const element = $(id);
    element.dataset.state = state;
    element.textContent = text;
  }

  $('find-by').addEventListener('change', () => {
    $('find-query').placeholder = $('find-by').value === 'id' ? 'socket id' : 'user (the token\'s user claim)';
  });

  async function find() {
    const by = $('find-by').value;
    const query = $('find-query').value.trim();
    if (!query) return;
    status('find-status', 'busy', 'looking…');
    const tbody = $('find-results').tBodies[0];
    try {
      const answer = await request(`api/sockets?${by}=${encodeURIComponent(query)}`);
      tbody.replaceChildren();
      for (const socket of answer.sockets) tbody.appendChild(socketRow(socket));
      if (!answer.sockets.length) emptyRow(tbody, 7, by === 'id' ? `no socket ${query} on this instance` : `no socket of user ${query} on this instance`);
      const more = answer.total > answer.sockets.length ? ` (the first ${answer.sockets.length} listed)` : '';
      status('find-status', 'ok', `${answer.total} found${more}`);
      $('find-results').dataset.query = `${by}:${query}`;
    } catch (error) {
      status('find-status', 'error', error.message);
    }
  }

  function socketRow(socket) {
    const row = document.createElement('tr');
    row.dataset.id = socket.id;
    row.dataset.state = socket.state;
    cell(row, socket.id, 'mono');
    cell(row, socket.remoteAddress || '');
    cell(row, socket.user == null ? (socket.authenticated ? '(no user claim)' : '(not signed in)') : socket.user);
    cell(row, dateTime(socket.connectedAt));
    const channels = socket.channels.join(', ') + (socket.channelCount > socket.channels.length ? ` … (${socket.channelCount})` : '');
    cell(row, channels || '–', 'mono');
    cell(row, `${num(socket.waitingCharacters)} ch / ${num(socket.waitingFrames)} fr`, 'num');
    const actions = document.createElement('div');
    actions.className = 'actions';
    for (const [mode, label, className] of [['disconnect', 'Disconnect', 'quiet'], ['kick', 'Kick', 'danger']]) {
      const button = document.createElement('button');
      button.type = 'button';
      button.className = className;
      button.dataset.mode = mode;
      button.textContent = label;
      button.title = mode === 'kick' ? 'close with 4500: the client does not reconnect'
        : 'close with 4100: the client reconnects after its delay';
      button.addEventListener('click', () => disconnect(socket.id, mode, row));
      actions.appendChild(button);
    }
    const td = cell(row, '');
    td.appendChild(actions);
    if (socket.state === 'closed') actions.querySelectorAll('button').forEach((b) => { b.disabled = true; });
    return row;
  }

  async function disconnect(id, mode, row) {
    row.querySelectorAll('button').forEach((b) => { b.disabled = true; });
    status('find-status', 'busy', `${mode === 'kick' ? 'kicking' : 'disconnecting'} ${id}…`);
    try {
      const answer = await request('api/disconnect', {method: 'POST', body: {id, mode}});
      row.dataset.state = 'closed';
      status('find-status', 'ok', `${id} closed with ${answer.code} (${answer.reason})`);
    } catch (error) {
      row.querySelectorAll('button').forEach((b) => { b.disabled = false; });
      status('find-status', 'error', error.message);
    }
  }

  $('find').addEventListener('submit', (event) => {
    event.preventDefault();
    find();
  });

  // ---- publish ----

  $('publish').addEventListener('submit', async (event) => {
    event.preventDefault();
    const channel = $('publish-channel').value;
    // The server checks the JSON (400 with what is wrong): one rule, one place.
    const text = $('publish-data').value;
    status('publish-status', 'busy', 'publishing…');
    try {
      const answer = await request('api/publish', {method: 'POST', body: {channel, data: text}});
      const position = answer.offset != null ? ` at offset ${answer.offset}` : '';
      status('publish-status', 'ok', `published to ${answer.channel}${position}`);
    } catch (error) {
      status('publish-status', 'error', error.message);
    }
  });

  window.addEventListener('resize', drawCharts);
  poll();
})();
