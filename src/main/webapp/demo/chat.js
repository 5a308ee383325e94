// agserver chat demo: the official browser client (js/socketcluster-client.min.js, an ES module
// since socketcluster-client 17) and pub/sub only.
//   chat/ROOM   messages {id, from, text, at} published by the pages in that room
//   presence    {type: 'here', id, name, room} every few seconds from every signed-in page,
//               {type: 'who'} (a page that just joined asks everyone to say 'here' now),
//               {type: 'bye', id} when a page goes away
// The server needs no code for this: it relays what clients publish (allowClientPublish).
// body[data-client] tells whether the client loaded ("loaded") or not ("missing").

const DEFAULT_ROOMS = ['general', 'random', 'help'];
const HEARTBEAT_MS = 5000;
const PRESENCE_TTL_MS = 3 * HEARTBEAT_MS;
const MAX_MESSAGES = 200;

const $ = (id) => document.getElementById(id);

let socketClusterClient;
try {
  socketClusterClient = await import('../js/socketcluster-client.min.js');
} catch (error) {
  console.warn('socketcluster-client.min.js did not load', error);
}
if (socketClusterClient) {
  document.body.dataset.client = 'loaded';
  start(socketClusterClient);
} else {
  document.body.dataset.client = 'missing';
  $('missing-client').hidden = false;
  $('signin').querySelector('button').disabled = true;
}

function start(socketClusterClient) {
  const state = {
    me: Math.random().toString(36).slice(2) + Date.now().toString(36),
    name: null,
    room: null,
    people: new Map(), // id -> {name, room, seen}
    rooms: new Set(DEFAULT_ROOMS)
  };

  // The endpoint is socketcluster/ next to this page (the context root of the WAR).
  const socket = socketClusterClient.create({
    hostname: location.hostname,
    port: location.port || (location.protocol === 'https:' ? 443 : 80),
    secure: location.protocol === 'https:',
    path: new URL('socketcluster/', document.baseURI).pathname
  });

  function setStatus(text) {
    const status = $('status');
    status.textContent = text;
    status.dataset.state = text;
  }

  (async () => {
    for await (const event of socket.listener('connect')) {
      setStatus('online');
      if (state.name) {
        announce();
        publishPresence({type: 'who'});
      }
    }
  })();
  (async () => {
    for await (const event of socket.listener('disconnect')) {
      setStatus('offline');
    }
  })();
  (async () => {
    for await (const {error} of socket.listener('error')) {
      console.warn('socket error', error);
    }
  })();

  // ---- helpers ---------------------------------------------------------------------------

  const clean = (value, max) => (typeof value === 'string' ? value.trim().slice(0, max) : '');
  const validRoom = (room) => /^[A-Za-z0-9_-]{1,24}$/.test(room);

  function publishPresence(data) {
    socket.transmitPublish('presence', data);
  }

  function announce() {
    publishPresence({type: 'here', id: state.me, name: state.name, room: state.room});
  }

  function systemMessage(text) {
    appendMessage({from: '', text, at: Date.now(), system: true});
  }

  // ---- presence --------------------------------------------------------------------------

  function onPresence(data) {
    if (!data || typeof data !== 'object') {
      return;
    }
    if (data.type === 'who') {
      announce();
    } else if (data.type === 'here') {
      const name = clean(data.name, 24);
      const room = clean(data.room, 24);
      if (typeof data.id !== 'string' || !name) {
        return;
      }
      state.people.set(data.id, {name, room, seen: Date.now()});
      if (validRoom(room) && !state.rooms.has(room)) {
        state.rooms.add(room);
        renderRooms();
      }
      renderPeople();
    } else if (data.type === 'bye' && typeof data.id === 'string') {
      state.people.delete(data.id);
      renderPeople();
    }
  }

  function prunePeople() {
    const now = Date.now();
    for (const [id, person] of state.people) {
      if (id !== state.me && now - person.seen > PRESENCE_TTL_MS) {
        state.people.delete(id);
      }
    }
    renderPeople();
  }

  function renderPeople() {
    const list = $('people');
    list.replaceChildren();
    const people = [...state.people.entries()]
      .sort(([, a], [, b]) => a.name.localeCompare(b.name));
    for (const [id, person] of people) {
      const item = document.createElement('li');
      item.dataset.name = person.name;
      const name = document.createElement('span');
      name.className = 'name';
      name.textContent = person.name + (id === state.me ? ' (you)' : '');
      const room = document.createElement('span');
      room.className = 'where';
      room.textContent = '#' + person.room;
      item.append(name, room);
      if (person.room === state.room) {
        item.classList.add('here');
      }
      list.append(item);
    }
  }

  // ---- rooms -----------------------------------------------------------------------------

  function renderRooms() {
    const list = $('rooms');
    list.replaceChildren();
    for (const room of [...state.rooms].sort()) {
      const item = document.createElement('li');
      const button = document.createElement('button');
      button.type = 'button';
      button.textContent = '#' + room;
      button.dataset.room = room;
      if (room === state.room) {
        button.classList.add('current');
      }
      button.addEventListener('click', () => joinRoom(room));
      item.append(button);
      list.append(item);
    }
  }

  function joinRoom(room) {
    if (!validRoom(room) || room === state.room) {
      return;
    }
    if (state.room) {
      const old = 'chat/' + state.room;
      socket.unsubscribe(old);
      socket.killChannel(old);
    }
    state.room = room;
    state.rooms.add(room);
    $('messages').replaceChildren();
    $('room-title').textContent = '#' + room;
    const channel = socket.subscribe('chat/' + room);
    (async () => {
      for await (const data of channel) {
        onMessage(data);
      }
    })();
    renderRooms();
    state.people.set(state.me, {name: state.name, room, seen: Date.now()});
    renderPeople();
    announce();
    $('text').focus();
  }

  // ---- messages --------------------------------------------------------------------------

  function onMessage(data) {
    if (!data || typeof data !== 'object') {
      return;
    }
    const from = clean(data.from, 24);
    const text = clean(data.text, 500);
    if (!from || !text) {
      return;
    }
    appendMessage({from, text, at: Number(data.at) || Date.now(), mine: data.id === state.me});
  }

  function appendMessage(message) {
    const list = $('messages');
    const item = document.createElement('li');
    item.className = message.system ? 'system' : message.mine ? 'mine' : 'theirs';
    item.dataset.from = message.from;
    const meta = document.createElement('span');
    meta.className = 'meta';
    const time = new Date(message.at).toLocaleTimeString([], {hour: '2-digit', minute: '2-digit'});
    meta.textContent = message.system ? time : message.from + ' · ' + time;
    const text = document.createElement('span');
    text.className = 'text';
    text.textContent = message.text;
    item.append(meta, text);
    list.append(item);
    while (list.children.length > MAX_MESSAGES) {
      list.firstElementChild.remove();
    }
    list.scrollTop = list.scrollHeight;
  }

  // ---- forms -----------------------------------------------------------------------------

  $('signin').addEventListener('submit', (event) => {
    event.preventDefault();
    const name = clean($('name').value, 24);
    if (!name) {
      return;
    }
    state.name = name;
    document.title = name + ' · agserver chat';
    $('signin').hidden = true;
    $('chat').hidden = false;

    const presence = socket.subscribe('presence');
    (async () => {
      for await (const data of presence) {
        onPresence(data);
      }
    })();
    setInterval(() => {
      announce();
      prunePeople();
    }, HEARTBEAT_MS);

    joinRoom($('signin-room').value);
    publishPresence({type: 'who'});
  });

  $('send').addEventListener('submit', async (event) => {
    event.preventDefault();
    const input = $('text');
    const text = clean(input.value, 500);
    if (!text) {
      return;
    }
    input.value = '';
    try {
      await socket.invokePublish('chat/' + state.room,
        {id: state.me, from: state.name, text, at: Date.now()});
    } catch (error) {
      systemMessage('Not sent: ' + (error && error.message ? error.message : error));
    }
  });

  $('new-room').addEventListener('submit', (event) => {
    event.preventDefault();
    const input = $('new-room-name');
    const room = clean(input.value, 24);
    if (validRoom(room)) {
      input.value = '';
      joinRoom(room);
    }
  });

  window.addEventListener('pagehide', () => {
    if (state.name) {
      publishPresence({type: 'bye', id: state.me});
    }
  });
}
