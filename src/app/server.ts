// The page's server: the built files, /config.json (the address book and anything wrong with it,
// read again on every load, so a node restarted and deployed anew shows on a reload) and /rpc, which
// forwards JSON-RPC to the node (the page then reads any node, whatever its CORS headers).
import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { extname, join, normalize } from "node:path";
import { readAddressBook } from "../chain/addressBook.ts";
import { fetchChainId } from "../chain/rpc.ts";
import { unreachableMessage } from "../cli/errors.ts";
import { CONFIG_PATH, RPC_PATH, type AppConfig } from "./config.ts";

export interface ServeOptions {
  /** The built page (buildApp's folder). */
  dir: string;
  network: string;
  rpcUrl: string;
  deployments: string;
  host: string;
  /** 0 takes a free port. */
  port: number;
}

export interface Served {
  url: string;
  server: Server;
  close(): Promise<void>;
}

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".png": "image/png",
};
/** A JSON-RPC body larger than this is refused (the page's largest batch is a few KB). */
const MAX_BODY = 1 << 20;

/** What the page is told: the address book, or the sentence that says why it cannot be used. */
export async function appConfig(
  o: Pick<ServeOptions, "network" | "rpcUrl" | "deployments">,
): Promise<AppConfig> {
  const base = { network: o.network, rpcUrl: o.rpcUrl, rpcPath: RPC_PATH };
  let book;
  try {
    book = readAddressBook(o.network, o.deployments);
  } catch (e) {
    return { ...base, problem: (e as Error).message };
  }
  let chainId: number;
  try {
    chainId = await fetchChainId(o.rpcUrl, 3000);
  } catch (e) {
    const reason = (e as { cause?: { code?: string } }).cause?.code ?? (e as Error).message;
    return { ...base, problem: unreachableMessage(o.rpcUrl, reason) };
  }
  if (chainId !== book.chainId) {
    return {
      ...base,
      problem: `the node at ${o.rpcUrl} runs chain ${chainId}, but the address book for "${o.network}" is for chain ${book.chainId}: start the app with the --network whose deployment this node has, or deploy to it (npm run deploy -- --network ${o.network})`,
    };
  }
  return { ...base, book };
}

function readBody(req: IncomingMessage): Promise<Buffer | null> {
  return new Promise((done, fail) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        done(null);
        req.destroy();
      } else chunks.push(c);
    });
    req.on("end", () => done(Buffer.concat(chunks)));
    req.on("error", fail);
  });
}

async function proxy(o: ServeOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== "POST") {
    res.writeHead(405, { allow: "POST" }).end();
    return;
  }
  const body = await readBody(req);
  if (body === null) {
    res.writeHead(413).end();
    return;
  }
  try {
    const answer = await fetch(o.rpcUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: body.toString("utf8"),
      signal: AbortSignal.timeout(30_000),
    });
    res.writeHead(answer.status, { "content-type": "application/json" });
    res.end(Buffer.from(await answer.arrayBuffer()));
  } catch {
    // the page's reads fail as a JSON-RPC node that is down would: a 502 it turns into a sentence
    res.writeHead(502, { "content-type": "text/plain" }).end(unreachableMessage(o.rpcUrl));
  }
}

function file(o: ServeOptions, path: string, res: ServerResponse): void {
  const name = path === "/" ? "index.html" : normalize(path).replace(/^[/\\]+/, "");
  if (name.includes("..") || !(extname(name) in TYPES)) {
    res.writeHead(404).end();
    return;
  }
  try {
    const data = readFileSync(join(o.dir, name));
    res.writeHead(200, { "content-type": TYPES[extname(name)]!, "cache-control": "no-cache" }).end(data);
  } catch {
    res.writeHead(404).end();
  }
}

/** Serves the built page; resolves once it listens. */
export function serveApp(o: ServeOptions): Promise<Served> {
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://page").pathname;
    if (path === RPC_PATH) {
      void proxy(o, req, res);
    } else if (path === CONFIG_PATH) {
      void appConfig(o).then((c) => {
        res.writeHead(200, { "content-type": "application/json", "cache-control": "no-store" });
        res.end(JSON.stringify(c));
      });
    } else file(o, path, res);
  });
  return new Promise((done, fail) => {
    server.once("error", fail);
    server.listen(o.port, o.host, () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : o.port;
      const host = o.host.includes(":") ? `[${o.host}]` : o.host;
      done({
        url: `http://${host}:${port}/`,
        server,
        close: () =>
          new Promise<void>((closed) => {
            server.closeAllConnections();
            server.close(() => closed());
          }),
      });
    });
  });
}
