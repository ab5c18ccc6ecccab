// The JSON-RPC 2.0 server of the request layer's browser tests
// (tests/browser/requests.rs): the npm package rpc-websockets, pinned in
// package.json, with a few methods of our own. Usage: node server.mjs PORT
import { Server } from "rpc-websockets";

const port = Number(process.argv[2] ?? 9005);
const server = new Server({ host: "127.0.0.1", port });

server.register("sum", (numbers) => numbers.reduce((total, n) => total + n, 0));
// Replies after `ms` milliseconds: requests in flight, timeouts, order.
server.register("sleep", ([ms, value]) => new Promise((done) => setTimeout(() => done(value ?? ms), ms)));
// Error replies as the package makes them: from an Error, a proper error
// object; from anything else thrown, that value as the "error", unchecked.
server.register("fail", () => {
  throw new Error("it failed on purpose");
});
server.register("fail_without_message", () => {
  throw { code: 7 };
});
// Cuts the caller's TCP connection without a close frame, after `ms`.
server.register("drop_me", ([ms], socketId) => {
  setTimeout(() => server.namespaces["/"].clients.get(socketId)?.terminate(), ms);
  return "dropping";
});
// Topics of the tests' own: the three browsers run the suite side by side
// against this one server, so each test declares a topic nobody else uses
// and ticks on it ("tick" itself stays, for tests that do not care).
server.event("tick");
server.register("declare", ([topic]) => {
  if (!server.eventList().includes(topic)) server.event(topic);
  return topic;
});
// A notification to every subscriber of the topic (rpc.on), then the reply.
server.register("tick", ([n, topic]) => {
  server.emit(topic ?? "tick", { n });
  return n;
});

server.on("listening", () => console.log(`listening on ws://127.0.0.1:${port}/`));
server.on("error", (error) => {
  console.error(error);
  process.exit(1);
});
