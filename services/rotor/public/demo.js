/* global Centrifuge, document, location, sessionStorage, crypto */
// The demo chat: one subscription to a `chat:` channel through centrifuge-js. Each tab picks a
// name and a colour; messages travel as publication data {name, color, text}, so a backend's
// publish (`{"text": "…"}` with curl) shows up too. Everything received is untrusted: it is
// rendered as text, and a colour is applied only when it is a plain #rrggbb value.
'use strict';

(function main() {
  const root = document.documentElement;
  const anonymous = root.dataset.anonymous === 'true';
  const defaultChannel = root.dataset.channel || 'chat:lobby';
  const $ = (id) => document.getElementById(id);

  const COLOURS = ['#c0392b', '#2e86c1', '#239b56', '#b9770e', '#7d3c98', '#117a65', '#a04000', '#1f618d', '#943126', '#5b2c6f'];
  const ANIMALS = ['Otter', 'Heron', 'Lynx', 'Badger', 'Falcon', 'Marten', 'Ibis', 'Gecko', 'Puffin', 'Yak', 'Wren', 'Tapir'];
  const COLOUR_RE = /^#[0-9a-f]{6}$/i;
  const MAX_TEXT = 500;
  const MAX_NAME = 40;
  const MAX_LOG = 500;

  function random(n) {
    return crypto.getRandomValues(new Uint32Array(1))[0] % n;
  }

  /** One identity per tab: sessionStorage survives a reload of this tab, not a new tab. */
  function identity() {
    const saved = sessionStorage.getItem('rotor-demo-me');
    if (saved !== null) {
      try {
        const me = JSON.parse(saved);
        if (me && typeof me.name === 'string' && COLOUR_RE.test(me.color)) return me;
      } catch (err) {
        console.warn('discarding a stored identity that is not JSON', err);
      }
    }
    const me = { name: `${ANIMALS[random(ANIMALS.length)]} ${10 + random(90)}`, color: COLOURS[random(COLOURS.length)] };
    sessionStorage.setItem('rotor-demo-me', JSON.stringify(me));
    return me;
  }

  const me = identity();
  const log = $('log');
  const shownOffsets = new Set();

  function setState(state) {
    const el = $('state');
    el.textContent = state;
    el.className = `state ${state}`;
  }

  function showError(text) {
    const el = $('error');
    el.textContent = text;
    el.hidden = text === '';
  }

  function scrollDown() {
    while (log.children.length > MAX_LOG) log.removeChild(log.firstChild);
    log.scrollTop = log.scrollHeight;
  }

  /** Publication data → {name, color, text}, whatever a sender put in it. */
  function normalise(data) {
    if (data !== null && typeof data === 'object' && typeof data.text === 'string') {
      return {
        name: typeof data.name === 'string' && data.name !== '' ? data.name.slice(0, MAX_NAME) : 'server',
        color: typeof data.color === 'string' && COLOUR_RE.test(data.color) ? data.color : '',
        text: data.text.slice(0, MAX_TEXT),
      };
    }
    return { name: 'server', color: '', text: JSON.stringify(data).slice(0, MAX_TEXT) };
  }

  /** Adds a message once per offset, in offset order (history replies may arrive after live ones). */
  function addMessage(data, offset) {
    const hasOffset = typeof offset === 'number' && offset > 0;
    if (hasOffset) {
      if (shownOffsets.has(offset)) return;
      shownOffsets.add(offset);
    }
    const m = normalise(data);
    const li = document.createElement('li');
    li.className = 'msg';
    const name = document.createElement('span');
    name.className = 'name';
    name.textContent = m.name;
    if (m.color !== '') name.style.color = m.color;
    const text = document.createElement('span');
    text.className = 'text';
    text.textContent = m.text;
    li.append(name, text);
    if (hasOffset) {
      li.dataset.offset = String(offset);
      const later = Array.prototype.find.call(log.children, (c) => c.dataset.offset !== undefined && Number(c.dataset.offset) > offset);
      if (later !== undefined) {
        log.insertBefore(li, later);
        return;
      }
    }
    log.appendChild(li);
    scrollDown();
  }

  function addEvent(text) {
    const li = document.createElement('li');
    li.className = 'event';
    li.textContent = text;
    log.appendChild(li);
    scrollDown();
  }

  function who(info) {
    return info && info.user ? info.user : 'someone';
  }

  function connect(token, channel) {
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    const client = new Centrifuge(`${scheme}://${location.host}/connection/websocket`, token ? { token } : {});
    const sub = client.newSubscription(channel);
    let everConnected = false;
    let myClient = '';

    const refreshPresence = () => {
      sub.presenceStats().then(
        (stats) => {
          $('presence').textContent = `· ${stats.numClients} online`;
        },
        () => {
          $('presence').textContent = '';
        },
      );
    };

    client.on('connecting', () => setState('connecting'));
    client.on('connected', (ctx) => {
      everConnected = true;
      myClient = ctx.client;
      setState('connected');
      showError('');
    });
    client.on('disconnected', (ctx) => {
      setState('disconnected');
      showError(`Disconnected: ${ctx.reason} (code ${ctx.code}).`);
    });
    client.on('error', (ctx) => {
      if (!everConnected && ctx.type === 'transport') {
        showError(`Cannot connect (${ctx.error.message}). If the server refused this page, check that client.allowed_origins allows ${location.origin}.`);
      }
    });

    sub.on('subscribed', (ctx) => {
      $('login').hidden = true;
      $('chat').hidden = false;
      $('room').textContent = channel;
      $('text').focus();
      refreshPresence();
      if (!ctx.wasRecovering) {
        sub.history({ limit: 20, reverse: true }).then(
          (h) => h.publications.reverse().forEach((p) => addMessage(p.data, p.offset)),
          (err) => console.info('no history for this channel:', err.message),
        );
      }
    });
    sub.on('publication', (ctx) => addMessage(ctx.data, ctx.offset));
    sub.on('join', (ctx) => {
      if (ctx.info.client === myClient) return;
      addEvent(`${who(ctx.info)} joined`);
      refreshPresence();
    });
    sub.on('leave', (ctx) => {
      addEvent(`${who(ctx.info)} left`);
      refreshPresence();
    });
    sub.on('unsubscribed', (ctx) => {
      if (ctx.code !== 0) showError(`Unsubscribed from ${channel}: ${ctx.reason} (code ${ctx.code}).`);
    });
    sub.on('error', (ctx) => showError(`Subscription error: ${ctx.error.message}`));

    $('send').addEventListener('submit', (event) => {
      event.preventDefault();
      const input = $('text');
      const text = input.value.trim();
      if (text === '') return;
      sub.publish({ name: me.name, color: me.color, text }).then(
        () => {
          input.value = '';
          showError('');
        },
        (err) => showError(`Not sent: ${err.message}`),
      );
    });

    sub.subscribe();
    client.connect();
  }

  $('me').textContent = me.name;
  $('me').style.color = me.color;

  if (anonymous) {
    connect('', defaultChannel);
    return;
  }
  // A configured server: ask for a connection token (kept in this tab's sessionStorage only).
  const form = $('login');
  $('channel').value = sessionStorage.getItem('rotor-demo-channel') || defaultChannel;
  $('token').value = sessionStorage.getItem('rotor-demo-token') || '';
  form.hidden = false;
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const token = $('token').value.trim();
    const channel = $('channel').value.trim();
    if (token === '' || channel === '') return;
    sessionStorage.setItem('rotor-demo-token', token);
    sessionStorage.setItem('rotor-demo-channel', channel);
    form.querySelector('button').disabled = true;
    connect(token, channel);
  });
})();
