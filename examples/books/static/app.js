// The books demo page: fetch a ticket, connect, subscribe to a book, show
// live updates, send edits as message events.
import { Client } from './wsrouter.js';

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const user = params.get('user') || 'reader-' + Math.random().toString(36).slice(2, 6);
$('user').textContent = user;

function log(text) {
  const li = document.createElement('li');
  li.textContent = `${new Date().toLocaleTimeString()} ${text}`;
  $('log').prepend(li);
}

function render(book) {
  $('title').textContent = book.title;
  $('author').textContent = book.author ?? '';
  $('notes').textContent = book.notes ?? '';
  $('version').textContent = String(book.version ?? '');
  $('edited-by').textContent = book.edited_by ? `, last edit by ${book.edited_by}` : '';
  // Keep what the user is typing; refresh the other field.
  if (document.activeElement !== $('edit-title')) $('edit-title').value = book.title;
  if (document.activeElement !== $('edit-notes')) $('edit-notes').value = book.notes ?? '';
}

// bookOf returns the book in a subscribe answer or a published message.
// Anyone with Redis access can publish (redis-cli, another service), so a
// message of another shape is shown as such and otherwise ignored.
function bookOf(data) {
  const book = data?.book;
  if (book !== null && typeof book === 'object' && typeof book.title === 'string') return book;
  let text = JSON.stringify(data) ?? String(data);
  if (text.length > 160) text = text.slice(0, 160) + '…';
  $('error').textContent = `Ignored a message that is not a book (expected {"book":{"title":…}}): ${text}`;
  log('ignored a message that is not a book');
  return null;
}

// Tickets are single-use: the client calls this on every (re)connect.
async function ticket() {
  const res = await fetch('/ticket', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ user }),
  });
  if (!res.ok) throw new Error(`ticket: HTTP ${res.status}`);
  return (await res.json()).ticket;
}

const config = await (await fetch('/config.json')).json();
const books = await (await fetch('/books')).json();
for (const b of books) $('book').add(new Option(b.title, b.id));
$('book').value = books.some((b) => b.id === params.get('book')) ? params.get('book') : books[0].id;

const client = new Client(config.ws_url, { ticket });
client.on('state', (state, detail) => {
  document.body.dataset.state = state;
  $('state').textContent = state;
  if (state === 'disconnected') log(`disconnected (${detail.reason || detail.code || 'closed'}); retrying in ${Math.round(detail.delay)} ms`);
  if (state === 'connected') log('connected');
});
client.on('error', (err) => {
  $('error').textContent = err.message;
});

let current = null;

// Who else has the book open: the router's presence list, kept up to date
// by join and leave events. Members are {"user_id": ...}.
const readers = new Map(); // JSON of the member -> user name
function renderReaders() {
  const names = [...readers.values()].sort();
  $('readers').replaceChildren(...names.map((name) => {
    const li = document.createElement('li');
    li.textContent = name === user ? `${name} (you)` : name;
    return li;
  }));
}
async function loadReaders(sub) {
  try {
    const { members } = await sub.presence();
    readers.clear();
    for (const m of members) readers.set(JSON.stringify(m), String(m.user_id));
    renderReaders();
  } catch (err) {
    $('error').textContent = err.message;
  }
}

async function open(id) {
  if (current) await current.unsubscribe().catch(() => {});
  current = null;
  readers.clear();
  renderReaders();
  $('error').textContent = '';
  try {
    current = await client.subscribe(`books.${id}`, {
      onSubscribe(data) {
        loadReaders(this); // again after every reconnect
        const book = bookOf(data);
        if (!book) return;
        render(book);
        log(`subscribed to ${book.title} (version ${book.version})`);
      },
      onMessage(data) {
        const book = bookOf(data);
        if (!book) return;
        render(book);
        log(`version ${book.version} by ${book.edited_by ?? 'someone'}`);
      },
      onJoin(member) {
        readers.set(JSON.stringify(member), String(member.user_id));
        renderReaders();
        log(`${member.user_id} opened the book`);
      },
      onLeave(member) {
        readers.delete(JSON.stringify(member));
        renderReaders();
        log(`${member.user_id} closed the book`);
      },
      onReply(reply) {
        if (reply.status === 'error') $('error').textContent = reply.error;
      },
      onUnsubscribe(error) {
        $('error').textContent = error || 'Unsubscribed.';
      },
    });
  } catch (err) {
    $('error').textContent = err.message;
  }
}

$('book').addEventListener('change', () => open($('book').value));
$('edit').addEventListener('submit', (ev) => {
  ev.preventDefault();
  $('error').textContent = '';
  const sent = current?.send({ title: $('edit-title').value, notes: $('edit-notes').value });
  if (!sent) $('error').textContent = 'Not connected; try again in a moment.';
  document.activeElement?.blur();
});

client.connect();
open($('book').value);
