// The scenarios written wholly in JavaScript: the baseline. Timing is taken
// here, so it excludes wasm entirely.

export function now() {
  return performance.now();
}

function open(url) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.binaryType = "arraybuffer";
    ws.onopen = () => resolve(ws);
    ws.onerror = () => reject(new Error("cannot connect to " + url));
  });
}

function finish(ws) {
  ws.onmessage = null;
  ws.close(1000);
}

// Sends `count` messages of `size` (text or binary) back to back, resolves with
// the ms until every echo has arrived.
export async function rawEcho(url, count, size, text) {
  const ws = await open(url);
  const payload = text ? "x".repeat(size) : new Uint8Array(size);
  return new Promise((resolve) => {
    let received = 0;
    let bytes = 0;
    const start = performance.now();
    ws.onmessage = (event) => {
      // Touch the data, as the Rust side must.
      bytes += text ? event.data.length : event.data.byteLength;
      if (++received === count) {
        const elapsed = performance.now() - start;
        finish(ws);
        resolve(bytes > 0 ? elapsed : NaN);
      }
    };
    for (let i = 0; i < count; i++) ws.send(payload);
  });
}

// rawEcho for text, handing each message's text to wasm (wasm-bindgen's
// string passing): the least any reader of text in wasm must do.
export async function rawEchoTextToWasm(url, count, size, toWasm) {
  const ws = await open(url);
  const payload = "x".repeat(size);
  return new Promise((resolve) => {
    let received = 0;
    let bytes = 0;
    const start = performance.now();
    ws.onmessage = (event) => {
      bytes += toWasm(event.data);
      if (++received === count) {
        const elapsed = performance.now() - start;
        finish(ws);
        resolve(bytes > 0 ? elapsed : NaN);
      }
    };
    for (let i = 0; i < count; i++) ws.send(payload);
  });
}

// rawEchoTextToWasm, but each text is encoded with TextEncoder.encodeInto
// straight into a buffer in wasm memory (`capacity` bytes at `address`), and
// wasm is told only the length: what passing text could cost without
// wasm-bindgen's string glue (which copies ASCII a character at a time in JS
// and calls encodeInto only from the first non-ASCII character on).
const encoder = new TextEncoder();
export async function rawEchoTextEncodeInto(url, count, size, memory, address, capacity, toWasm) {
  const ws = await open(url);
  const payload = "x".repeat(size);
  let view = new Uint8Array(memory.buffer, address, capacity);
  return new Promise((resolve) => {
    let received = 0;
    let bytes = 0;
    const start = performance.now();
    ws.onmessage = (event) => {
      // A grown memory has a new buffer.
      if (view.buffer !== memory.buffer) view = new Uint8Array(memory.buffer, address, capacity);
      const { written } = encoder.encodeInto(event.data, view);
      bytes += toWasm(written);
      if (++received === count) {
        const elapsed = performance.now() - start;
        finish(ws);
        resolve(bytes > 0 ? elapsed : NaN);
      }
    };
    for (let i = 0; i < count; i++) ws.send(payload);
  });
}

// Sends the JSON text `payload` `count` times, parses each echo with
// JSON.parse and counts its items; with `toWasm`, hands each parsed value to
// wasm instead (which converts it into a Rust type and counts there).
export async function rawJsonEcho(url, count, payload, toWasm) {
  const ws = await open(url);
  return new Promise((resolve) => {
    let received = 0;
    let items = 0;
    const start = performance.now();
    ws.onmessage = (event) => {
      const value = JSON.parse(event.data);
      items += toWasm ? toWasm(value) : value.items.length;
      if (++received === count) {
        const elapsed = performance.now() - start;
        finish(ws);
        resolve(items > 0 ? elapsed : NaN);
      }
    };
    for (let i = 0; i < count; i++) ws.send(payload);
  });
}

// Asks the server for `count` messages and resolves with the ms until all arrived.
export async function rawFlood(url, count) {
  const ws = await open(url);
  return new Promise((resolve) => {
    let received = 0;
    let bytes = 0;
    const start = performance.now();
    ws.onmessage = (event) => {
      bytes += event.data.byteLength;
      if (++received === count) {
        const elapsed = performance.now() - start;
        finish(ws);
        resolve(bytes > 0 ? elapsed : NaN);
      }
    };
    ws.send("go");
  });
}

// bulk_send's measurements, taken the same way for every contender: while
// tracking is on, every WebSocket the page creates (in JS, or by either crate
// through wasm-bindgen) is of a subclass that remembers the newest one, so its
// bufferedAmount can be read whoever owns it. The subclass adds nothing to
// `send`.
const NativeWebSocket = globalThis.WebSocket;
let tracked = null;
let peak = 0;

let bufferedReads = 0;
const nativeBufferedAmount = Object.getOwnPropertyDescriptor(
  NativeWebSocket.prototype,
  "bufferedAmount",
).get;
const bufferedAmountOf = (ws) => nativeBufferedAmount.call(ws);

class TrackedWebSocket extends NativeWebSocket {
  constructor(...args) {
    super(...args);
    tracked = this;
  }
  // Counts the owner's looks at the buffer (a waiting Sink's wake-ups); the
  // page's own reads below go around it.
  get bufferedAmount() {
    bufferedReads++;
    return bufferedAmountOf(this);
  }
}

export function trackSockets(on) {
  globalThis.WebSocket = on ? TrackedWebSocket : NativeWebSocket;
  tracked = null;
  peak = 0;
  bufferedReads = 0;
}

// How many times the owner of the newest socket read its bufferedAmount.
export function bufferedReadCount() {
  return bufferedReads;
}

// Notes the newest socket's bufferedAmount (called after each send).
export function notePeak() {
  if (tracked) peak = Math.max(peak, bufferedAmountOf(tracked));
}

// NaN when no WebSocket was made (websocket-web uses WebSocketStream where
// the engine has it, whose buffer the page cannot read).
export function peakBuffered() {
  return tracked ? peak : NaN;
}

// Resolves with performance.now() once the newest socket's bufferedAmount is
// back to 0, polling on timers (so the browser can send meanwhile).
export function drained() {
  return new Promise((resolve) => {
    const poll = () => {
      if (!tracked || bufferedAmountOf(tracked) === 0) resolve(performance.now());
      else setTimeout(poll, 0);
    };
    poll();
  });
}

// A full garbage collection where the page may ask for one (Chromium started
// with --js-flags=--expose-gc), so that no run pays for the garbage of the one
// before it; elsewhere nothing.
export function collectGarbage() {
  if (typeof globalThis.gc === "function") globalThis.gc();
}

// performance.memory.usedJSHeapSize where the browser has it (Chromium), else NaN.
export function jsHeapUsed() {
  const memory = performance.memory;
  return memory ? memory.usedJSHeapSize : NaN;
}

// A turn of the event loop (a message task): the browser can send meanwhile.
const turn = (() => {
  const channel = new MessageChannel();
  const waiting = [];
  channel.port1.onmessage = () => waiting.shift()();
  return () => new Promise((resolve) => {
    waiting.push(resolve);
    channel.port2.postMessage(null);
  });
})();

// Sends `total` bytes in `chunk`-byte messages of the reader's protocol with
// plain sends, resolves with the ms until bufferedAmount is 0 again after the
// last send (then checks the reader's report, untimed). With `high` and `low`,
// it holds the buffer under `high` as this crate's Sink does, but looks at
// bufferedAmount on every turn of the event loop while it waits for `low`:
// the fastest any sender that bounds the buffer can be, at the price of a
// busy loop.
export async function rawBulk(url, total, chunk, high, low) {
  const ws = await open(url);
  const buffer = new Uint8Array(chunk);
  const view = new DataView(buffer.buffer);
  const start = performance.now();
  const count = total / chunk;
  for (let sequence = 0; sequence < count; sequence++) {
    if (high !== undefined && ws.bufferedAmount > high) {
      while (ws.bufferedAmount > low) await turn();
    }
    view.setBigUint64(0, BigInt(sequence));
    buffer.fill(sequence % 251, 8);
    ws.send(buffer);
    notePeak();
  }
  const elapsed = (await drained()) - start;
  const report = await new Promise((resolve) => {
    ws.onmessage = (event) => resolve(event.data);
    ws.send("done");
  });
  finish(ws);
  if (report !== `messages=${count} bytes=${total} in_order=true`) {
    throw new Error("raw JS bulk send: " + report);
  }
  return elapsed;
}

// The flood read by a loop that awaits a promise per message, as an async
// reader (a Rust `Stream` polled by a task) must: the handler queues the data
// and wakes the loop.
export async function rawFloodAwait(url, count) {
  const ws = await open(url);
  const queue = [];
  let wake = null;
  ws.onmessage = (event) => {
    queue.push(event.data);
    if (wake) {
      const resolve = wake;
      wake = null;
      resolve();
    }
  };
  const next = () =>
    queue.length ? queue.shift() : new Promise((resolve) => { wake = resolve; }).then(() => queue.shift());
  let bytes = 0;
  const start = performance.now();
  ws.send("go");
  for (let i = 0; i < count; i++) {
    const data = await next();
    bytes += data.byteLength;
  }
  const elapsed = performance.now() - start;
  finish(ws);
  return bytes > 0 ? elapsed : NaN;
}

// The flood read in JS with `onData(data)` run in each message's handler;
// resolves with the ms until all `count` arrived (NaN if the values `onData`
// returned add up to 0: nothing was read). `rawFlood`, the baseline, is written
// out in full instead, so that no indirect call is in its handler.
async function floodWith(url, count, onData) {
  const ws = await open(url);
  return new Promise((resolve) => {
    let received = 0;
    let read = 0;
    const start = performance.now();
    ws.onmessage = (event) => {
      read += onData(event.data);
      if (++received === count) {
        const elapsed = performance.now() - start;
        finish(ws);
        resolve(read > 0 ? elapsed : NaN);
      }
    };
    ws.send("go");
  });
}

// The flood read in JS, calling into wasm once per message with the message's
// length (`callWasm`, a Rust closure): the floor of any reader whose handler is
// in wasm.
export function rawFloodCallingWasm(url, count, callWasm) {
  return floodWith(url, count, (data) => {
    callWasm(data.byteLength);
    return 1;
  });
}

// The flood read in JS, looking at each message's bytes through a
// `Uint8Array`, as any reader of the bytes (and this crate, to copy them into
// wasm) must.
export function rawFloodReadingBytes(url, count) {
  return floodWith(url, count, (data) => {
    const bytes = new Uint8Array(data);
    return bytes[0] + bytes.length;
  });
}

// The requests scenario in JavaScript: `count` requests "<id>:<payload>" sent
// back to back, each a promise in a Map by id, resolved by the echo (the
// reply carries the id); resolves with the ms until every reply resolved its
// request.
export async function rawRequests(url, count, payload) {
  const ws = await open(url);
  const waiting = new Map();
  ws.onmessage = (event) => {
    const text = event.data;
    const id = Number(text.slice(0, text.indexOf(":")));
    const resolve = waiting.get(id);
    if (resolve) {
      waiting.delete(id);
      resolve(text.length);
    }
  };
  const start = performance.now();
  const replies = [];
  for (let id = 1; id <= count; id++) {
    replies.push(new Promise((resolve) => waiting.set(id, resolve)));
    ws.send(`${id}:${payload}`);
  }
  const lengths = await Promise.all(replies);
  const elapsed = performance.now() - start;
  finish(ws);
  return lengths.every((length) => length > payload.length) ? elapsed : NaN;
}
