// agserver chat demo: the official browser client (js/socketcluster-client.min.js, an ES module
// since socketcluster-client 17), pub/sub, and the server's history and presence for chat/*
// (socketcluster.history.channels and socketcluster.presence.channels, set where the demo runs).
//   chat/ROOM            messages {id, from, text, at} published by the pages. The page subscribes
//                        with {recover: position}: each delivery is {offset, epoch, data}, and a
//                        marker {offset, epoch, recovered} follows every (re)subscription, after
//                        the replay of what the page missed while its connection was down.
//   #presence:chat/ROOM  the server's {join: {id, user}} and {leave: {id, user}}: who is
//                        subscribed to chat/ROOM (#presence answers the whole list).
//   names/ROOM           {type: 'hello', id, name, ask?}: the demo has no login, so presence
//                        knows socket ids only (user is null); each page says which name goes
//                        with its socket id, and one that asks is answered by the others.
// The server needs no code for this: it relays what clients publish (allowClientPublish).
// body[data-client] tells whether the client loaded ("loaded") or not ("missing").

const DEFAULT_ROOMS = ['general', 'random', 'help'];
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
    room: null, // the current room: {name, position, members, gone, names, ...}, see joinRoom
    rooms: new Set(DEFAULT_ROOMS)
  };

  // The endpoint is socketcluster/ next to this page (the context root of the WAR).
  const socket = socketClusterClient.create({
    hostname: location.hostname,
    port: location.port || (location.protocol === 'https:' ? 443 : 80),
    secure: location.protocol === 'https:',
    path: new URL('socketcluster/', document.baseURI).pathname
  });

  function setStatus(state, text = state) {
    const status = $('status');
    status.textContent = text;
    status.dataset.state = state;
  }

  // What the last resubscription brought back (data-state recovered or lost), until the next one.
  function setSync(state, text, missed) {
    const sync = $('sync');
    sync.hidden = !state;
    sync.textContent = text || '';
    sync.dataset.state = state || '';
    sync.dataset.missed = missed == null ? '' : String(missed);
  }

  (async () => {
    for await (const event of socket.listener('connect')) {
      setStatus('online');
    }
  })();
  (async () => {
    for await (const event of socket.listener('disconnect')) {
      // The client tries again by itself unless the server closed the connection for good.
      if (socket.pendingReconnect) {
        setStatus('reconnecting', 'reconnecting…');
      } else {
        setStatus('offline');
      }
      if (state.room) {
        state.room.cut = true;
        state.room.missed = 0;
        setSync(null);
      }
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
  const plural = (n, word) => n + ' ' + word + (n === 1 ? '' : 's');

  // Runs handle(value) for each value of a stream (one at a time, awaiting it) while the room is
  // the current one; killing the room's channels ends the loop.
  async function consume(room, stream, handle) {
    for await (const value of stream) {
      if (state.room !== room) {
        break;
      }
      try {
        await handle(value);
      } catch (error) {
        console.warn('could not handle', value, error);
      }
    }
  }

  function systemMessage(text) {
    appendMessage({from: '', text, at: Date.now(), system: true});
  }

  // ---- rooms -----------------------------------------------------------------------------

  function renderRooms() {
    const list = $('rooms');
    list.replaceChildren();
    for (const name of [...state.rooms].sort()) {
      const item = document.createElement('li');
      const button = document.createElement('button');
      button.type = 'button';
      button.textContent = '#' + name;
      button.dataset.room = name;
      if (state.room && name === state.room.name) {
        button.classList.add('current');
      }
      button.addEventListener('click', () => joinRoom(name));
      item.append(button);
      list.append(item);
    }
  }

  function channelsOf(name) {
    return {chat: 'chat/' + name, presence: '#presence:chat/' + name, names: 'names/' + name};
  }

  function leaveRoom() {
    if (!state.room) {
      return;
    }
    for (const channel of Object.values(channelsOf(state.room.name))) {
      socket.unsubscribe(channel);
      socket.killChannel(channel);
    }
    state.room = null;
  }

  function joinRoom(name) {
    if (!validRoom(name) || (state.room && name === state.room.name)) {
      return;
    }
    leaveRoom();
    const room = {
      name,
      position: {}, // {offset, epoch} of the last publication shown; {} before the first marker
      cut: false, // the connection dropped since the last marker
      missed: 0, // publications replayed since the connection dropped
      members: new Set(), // socket ids subscribed to chat/ROOM
      gone: new Set(), // socket ids that left (a socket id is never used again)
      refreshing: new Set(), // per #presence request under way: the ids that joined meanwhile
      names: new Map() // socket id -> name
    };
    state.room = room;
    state.rooms.add(name);
    $('messages').replaceChildren();
    $('room-title').textContent = '#' + name;
    setSync(null);
    renderRooms();
    renderPeople();

    const channels = channelsOf(name);
    // Names: the page asks once its subscription is confirmed (again after each reconnect, under
    // its new socket id), so the answers reach it.
    const names = socket.subscribe(channels.names);
    consume(room, names.listener('subscribe'), () => sayHello(room, true));
    consume(room, names, (data) => onHello(room, data));
    // Presence: the list when the notifications start (again, after a reconnect), then joins and
    // leaves as they come.
    const presence = socket.subscribe(channels.presence);
    consume(room, presence.listener('subscribe'), () => refreshPresence(room));
    consume(room, presence, (data) => onPresence(room, data));
    // The messages: the same position object is sent again on every resubscription.
    const chat = socket.subscribe(channels.chat, {data: {recover: room.position}});
    consume(room, chat, (delivery) => onDelivery(room, delivery));
    consume(room, chat.listener('subscribeFail'), ({error}) =>
      systemMessage('Could not join #' + name + ': ' + (error && error.message ? error.message : error)
        + (error && error.name === 'InvalidActionError'
          ? ' (the server keeps history for chat/* with SOCKETCLUSTER_HISTORY_CHANNELS=chat/*)' : '')));
    $('text').focus();
  }

  // ---- messages --------------------------------------------------------------------------

  async function onDelivery(room, delivery) {
    if (!delivery || typeof delivery !== 'object' || typeof delivery.offset !== 'number') {
      return;
    }
    if ('data' in delivery) {
      room.position.offset = delivery.offset;
      room.position.epoch = delivery.epoch;
      if (room.cut) {
        room.missed++;
      }
      onMessage(delivery.data);
      return;
    }
    // The marker of a (re)subscription: the page is at its offset now.
    const before = {offset: room.position.offset, epoch: room.position.epoch};
    room.position.offset = delivery.offset;
    room.position.epoch = delivery.epoch;
    const first = before.epoch === undefined;
    if (first || !delivery.recovered) {
      // The first subscription ({}: nothing was replayed) or a position the server no longer
      // has: what the channel keeps up to the marker, after what was shown. Later publications
      // wait in the channel's stream meanwhile, so that the order stays.
      await showHistory(room, delivery, before);
    }
    if (!first && room.cut) {
      if (delivery.recovered) {
        setSync('recovered', 'recovered ' + plural(room.missed, 'missed message'), room.missed);
      } else {
        setSync('lost', 'some messages were lost while offline');
      }
    }
    room.cut = false;
    room.missed = 0;
  }

  async function showHistory(room, marker, before) {
    let history;
    try {
      history = await socket.invoke('#history', {channel: channelsOf(room.name).chat});
    } catch (error) {
      if (state.room === room) {
        systemMessage('Could not load earlier messages: ' + (error && error.message ? error.message : error));
      }
      return;
    }
    if (state.room !== room || !history || history.epoch !== marker.epoch) {
      return;
    }
    const shown = before.epoch === marker.epoch ? before.offset : 0;
    for (const publication of history.publications || []) {
      if (publication.offset > shown && publication.offset <= marker.offset) {
        onMessage(publication.data);
      }
    }
  }

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

  // ---- who is here -----------------------------------------------------------------------

  async function refreshPresence(room) {
    const joined = new Set();
    room.refreshing.add(joined);
    try {
      const answer = await socket.invoke('#presence', {channel: channelsOf(room.name).chat});
      if (state.room !== room) {
        return;
      }
      // The answer replaces the list (ids that left while the connection was down go), with the
      // joins that came in while it was under way.
      room.members = new Set((answer && Array.isArray(answer.members) ? answer.members : [])
        .map((member) => member && member.id).filter((id) => typeof id === 'string'));
      for (const id of joined) {
        room.members.add(id);
      }
      for (const id of room.gone) {
        room.members.delete(id);
      }
      renderPeople();
    } catch (error) {
      console.warn('#presence failed', error);
    } finally {
      room.refreshing.delete(joined);
    }
  }

  function onPresence(room, data) {
    const join = data && data.join && typeof data.join.id === 'string' ? data.join.id : null;
    const leave = data && data.leave && typeof data.leave.id === 'string' ? data.leave.id : null;
    if (join && !room.gone.has(join)) {
      room.members.add(join);
      for (const joined of room.refreshing) {
        joined.add(join);
      }
    }
    if (leave) {
      room.gone.add(leave);
      room.members.delete(leave);
      room.names.delete(leave);
    }
    renderPeople();
  }

  function sayHello(room, ask) {
    const hello = {type: 'hello', id: socket.id, name: state.name};
    if (ask) {
      hello.ask = true;
    }
    socket.transmitPublish(channelsOf(room.name).names, hello);
  }

  function onHello(room, data) {
    const name = data && data.type === 'hello' ? clean(data.name, 24) : '';
    if (!name || typeof data.id !== 'string' || room.gone.has(data.id)) {
      return;
    }
    room.names.set(data.id, name);
    if (data.ask && data.id !== socket.id) {
      sayHello(room, false);
    }
    renderPeople();
  }

  function renderPeople() {
    const list = $('people');
    list.replaceChildren();
    const room = state.room;
    if (!room) {
      return;
    }
    const people = [...room.members].map((id) => ({
      id,
      name: id === socket.id ? state.name : room.names.get(id)
    })).sort((a, b) => (a.name || '\uffff').localeCompare(b.name || '\uffff'));
    for (const person of people) {
      const item = document.createElement('li');
      item.dataset.id = person.id;
      const name = document.createElement('span');
      name.className = 'name';
      if (person.name) {
        item.dataset.name = person.name;
        name.textContent = person.name + (person.id === socket.id ? ' (you)' : '');
      } else {
        item.classList.add('unnamed');
        name.textContent = '…';
      }
      item.append(name);
      list.append(item);
    }
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
    joinRoom($('signin-room').value);
  });

  $('send').addEventListener('submit', async (event) => {
    event.preventDefault();
    const input = $('text');
    const text = clean(input.value, 500);
    if (!text || !state.room) {
      return;
    }
    input.value = '';
    try {
      await socket.invokePublish(channelsOf(state.room.name).chat,
        {id: state.me, from: state.name, text, at: Date.now()});
    } catch (error) {
      systemMessage('Not sent: ' + (error && error.message ? error.message : error));
    }
  });

  $('new-room').addEventListener('submit', (event) => {
    event.preventDefault();
    const input = $('new-room-name');
    const name = clean(input.value, 24);
    if (validRoom(name)) {
      input.value = '';
      joinRoom(name);
    }
  });
}
