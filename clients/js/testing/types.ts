// Compiled by test/typecheck.test.mjs with `tsc --strict` against
// wsrouter.d.ts: typed payloads are inferred from the handlers, and wrong
// ones are refused (each @ts-expect-error must find an error).

import { Client, RouterError, States, Subscription, SubscriptionStates } from './wsrouter.js';
import type { Frame, State, SubscriptionState } from './wsrouter.js';

interface Book {
  id: string;
  title: string;
  version: number;
}

function render(book: Book): void {
  console.log(book.title, book.version);
}

const client = new Client('ws://127.0.0.1:9000/', { ticket: async () => 'T', window: null, document: null });
client.connect().on('state', (state: State, detail) => console.log(state, detail.delay ?? detail.code));

// The handlers' parameter types give the subscription's types.
const sub = await client.subscribe('books.book_1', { onSubscribe: render, onMessage: render });
const same: Subscription<Book, Book> = sub;
const title: string | undefined = sub.data?.title;
sub.on('message', (book, frame: Frame<Book>) => render(frame.data ?? book));
const state: SubscriptionState = sub.state;
if (state === SubscriptionStates.ACTIVE && client.state === States.CONNECTED) sub.send({ title });

// Published data and before_subscribe's data may differ.
await client.subscribe<Book, { book: Book }>('books.b2', {
  onSubscribe(data) {
    render(data.book);
    const self: Subscription<Book, { book: Book }> = this;
    void self;
  },
  onMessage: render,
});

// @ts-expect-error: a handler of numbers does not take books
await client.subscribe<Book>('books.b3', { onMessage: (n: number) => n.toFixed() });

await client.subscribe('books.b4', {
  onMessage(data) {
    // @ts-expect-error: untyped data is unknown until narrowed
    void data.title;
  },
});

try {
  await sub.unsubscribe();
} catch (err) {
  if (err instanceof RouterError) console.log(err.message, err.reply?.error);
}
void same;
