// A local TCP proxy in front of a node's JSON-RPC port that can be cut: while cut it drops every open
// connection and refuses new ones (as a node that went away does), until it is restored.
import { createServer, connect, type Server, type Socket } from "node:net";

export class CuttableProxy {
  private readonly server: Server;
  private readonly open = new Set<Socket>();
  private cutNow = false;
  /** Connections refused or dropped while cut. */
  refused = 0;

  private constructor(server: Server) {
    this.server = server;
  }

  /** Listens on a free port of 127.0.0.1 and forwards to `targetPort` there. */
  static async start(targetPort: number): Promise<{ proxy: CuttableProxy; port: number }> {
    let proxy: CuttableProxy | undefined;
    const server = createServer((client) => proxy!.accept(client, targetPort));
    proxy = new CuttableProxy(server);
    const port = await new Promise<number>((done, fail) => {
      server.once("error", fail);
      server.listen(0, "127.0.0.1", () => {
        const a = server.address();
        done(typeof a === "object" && a !== null ? a.port : 0);
      });
    });
    return { proxy, port };
  }

  private accept(client: Socket, targetPort: number): void {
    if (this.cutNow) {
      this.refused++;
      client.destroy();
      return;
    }
    const upstream = connect(targetPort, "127.0.0.1");
    for (const s of [client, upstream]) {
      this.open.add(s);
      s.on("error", () => undefined);
      s.on("close", () => {
        this.open.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  }

  get isCut(): boolean {
    return this.cutNow;
  }

  /** Drops every open connection and refuses new ones until restore(). */
  cut(): void {
    this.cutNow = true;
    for (const s of this.open) {
      this.refused++;
      s.destroy();
    }
  }

  restore(): void {
    this.cutNow = false;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((done) => this.server.close(() => done()));
  }
}
