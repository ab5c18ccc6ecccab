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

// Sends `total` bytes in `chunk`-byte messages of the slow reader's protocol
// with plain sends, resolves with [ms, peak bufferedAmount].
export async function rawBulk(url, total, chunk) {
  const ws = await open(url);
  const buffer = new Uint8Array(chunk);
  const view = new DataView(buffer.buffer);
  let peak = 0;
  const start = performance.now();
  const count = total / chunk;
  for (let sequence = 0; sequence < count; sequence++) {
    view.setBigUint64(0, BigInt(sequence));
    buffer.fill(sequence % 251, 8);
    ws.send(buffer);
    peak = Math.max(peak, ws.bufferedAmount);
  }
  const report = await new Promise((resolve) => {
    ws.onmessage = (event) => resolve(event.data);
    ws.send("done");
  });
  const elapsed = performance.now() - start;
  finish(ws);
  if (report !== `messages=${count} bytes=${total} in_order=true`) {
    throw new Error("raw JS bulk send: " + report);
  }
  return [elapsed, peak];
}
