// The GraphQL server of the request layer's browser tests
// (tests/browser/graphql.rs): the npm package graphql-ws (the
// graphql-transport-ws protocol) on ws, pinned in package.json, with a tiny
// schema of our own. Usage: node graphql.mjs PORT
import { WebSocketServer } from "ws";
import { useServer } from "graphql-ws/use/ws";
import { buildSchema } from "graphql";

const port = Number(process.argv[2] ?? 9006);

const schema = buildSchema(`
  type Query {
    hello(name: String): String
    "Answers after ms milliseconds: requests in flight, timeouts."
    sleep(ms: Int!, value: String): String
    "How many protocol pongs this connection sent (see Mutation.ping)."
    pongs: Int
    "The token in this connection's connection_init payload."
    token: String
  }
  type Mutation {
    "Sends this connection a protocol ping with payload {n}."
    ping(n: Int!): Boolean
    "Cuts this connection's TCP connection without a close frame, after ms."
    dropMe(ms: Int!): Boolean
    "Sends n to every live tick subscription of the channel; how many there are."
    tick(n: Int!, channel: String!): Int
  }
  type Subscription {
    "1..to, one every everyMs milliseconds, then complete."
    count(to: Int!, everyMs: Int): Int
    "Whatever Mutation.tick sends on the channel, until unsubscribed (each test uses its own channel: the browsers run side by side)."
    ticks(channel: String!): Int
    "One item, then an error."
    failing: Int
  }
`);

// Live tick subscribers by channel: each a function taking n.
const channels = new Map();
const tickersOf = (channel) => {
  if (!channels.has(channel)) channels.set(channel, new Set());
  return channels.get(channel);
};

const roots = {
  query: {
    hello: ({ name }) => `hello ${name ?? "world"}`,
    sleep: ({ ms, value }) => new Promise((done) => setTimeout(() => done(value ?? String(ms)), ms)),
    pongs: (_args, context) => context.socket.pongs ?? 0,
    token: (_args, context) => context.connectionParams?.token ?? null,
  },
  mutation: {
    ping: ({ n }, context) => {
      context.socket.send(JSON.stringify({ type: "ping", payload: { n } }));
      return true;
    },
    dropMe: ({ ms }, context) => {
      setTimeout(() => context.socket.terminate(), ms);
      return true;
    },
    tick: ({ n, channel }) => {
      const tickers = tickersOf(channel);
      for (const send of tickers) send(n);
      return tickers.size;
    },
  },
  subscription: {
    count: async function* ({ to, everyMs }) {
      for (let n = 1; n <= to; n += 1) {
        await new Promise((done) => setTimeout(done, everyMs ?? 10));
        yield { count: n };
      }
    },
    ticks: ({ channel }) => {
      const tickers = tickersOf(channel);
      // An async iterator fed by Mutation.tick, removed when the client
      // completes it (or its connection ends).
      const waiting = [];
      const ready = [];
      const send = (n) => {
        const item = { value: { ticks: n }, done: false };
        const next = waiting.shift();
        if (next) next(item);
        else ready.push(item);
      };
      tickers.add(send);
      return {
        [Symbol.asyncIterator]() {
          return this;
        },
        next: () => (ready.length ? Promise.resolve(ready.shift()) : new Promise((done) => waiting.push(done))),
        return: () => {
          tickers.delete(send);
          for (const done of waiting.splice(0)) done({ value: undefined, done: true });
          return Promise.resolve({ value: undefined, done: true });
        },
      };
    },
    failing: async function* () {
      yield { failing: 1 };
      throw new Error("the subscription failed on purpose");
    },
  },
};

const server = new WebSocketServer({ host: "127.0.0.1", port });
useServer(
  {
    schema,
    roots,
    // Accepting a connection takes a while, as checking a token does: a
    // subscribe that comes before the acknowledgement is closed with 4401.
    onConnect: () => new Promise((done) => setTimeout(() => done(true), 30)),
    // The raw socket and the init payload reach the resolvers, to count
    // pongs, send pings and cut connections.
    context: (ctx) => ({ socket: ctx.extra.socket, connectionParams: ctx.connectionParams }),
  },
  server,
);
server.on("connection", (socket) => {
  socket.on("message", (data) => {
    try {
      if (JSON.parse(String(data)).type === "pong") socket.pongs = (socket.pongs ?? 0) + 1;
    } catch {
      // Not JSON: the protocol closes it with 4400.
    }
  });
});
server.on("listening", () => console.log(`listening on ws://127.0.0.1:${port}/`));
server.on("error", (error) => {
  console.error(error);
  process.exit(1);
});
