// Graceful shutdown for an express app: counts in-flight requests, refuses new ones (503 + Connection: close) once
// draining, and lets main.ts wait (bounded) until the last one has finished. Shared by the server and the gateway.
import type { Request, Response, NextFunction } from "express";
import { rpcError } from "./jsonrpc.ts";

/** Tracks in-flight requests so shutdown can drain them; refuses new ones once draining. */
export class Drain {
  inflight = 0;
  draining = false;
  #idle: Array<() => void> = [];

  middleware = (req: Request, res: Response, next: NextFunction): void => {
    if (this.draining) { res.set("Connection", "close").status(503).json(rpcError(-32000, "Server is shutting down")); return; }
    // Long-lived GET streams (stateful mode) are closed at shutdown, not waited for.
    if (req.method === "GET" && req.path === "/mcp") { next(); return; }
    this.inflight++;
    res.once("close", () => { this.inflight--; if (this.inflight === 0) this.#idle.splice(0).forEach((f) => f()); });
    next();
  };

  /** Resolves true when no request is in flight, false after timeoutMs. */
  wait(timeoutMs: number): Promise<boolean> {
    if (this.inflight === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const t = setTimeout(() => resolve(false), timeoutMs);
      this.#idle.push(() => { clearTimeout(t); resolve(true); });
    });
  }
}
