import type { ServerResponse } from 'node:http';
import PQueue from 'p-queue';

// The recipient's pages are rendered a few at a time, in the order they were asked for.
//
// Left to itself, Node.js starts rendering every page the moment its request arrives, and a render
// is many small steps (queries, React, the stream Next.js writes): at the morning peak 32 readers
// at once each get a 32nd of the processor, step by step, and the ones whose steps keep landing
// behind everyone else's wait far longer than the rest. Measured in bench/portal at 32
// connections: p99 3.5 times p50. Rendered at most a handful at a time (the others waiting their
// turn, first come first served), each page takes about as long as the next (p99 about 2 times
// p50) and throughput is the same or better (fewer half-done renders in memory at once).
//
// A render starts on an event loop turn of its own, one per turn. Node.js (libuv) accepts one new
// connection per turn, and a turn that starts every render whose slot freed in it lasts several
// renders long: at the start of bench/portal's rounds, 32 readers connecting at once were
// accepted one every 25 ms, the last after 0.8 s, while the first ones' pages were rendered over
// and over (p99 4 times p50, all of it in the accept queue). A turn per start lets each new
// connection in after at most one render (the 32 in under 0.25 s).
//
// A reader who gives up while waiting (closes the tab, the proxy times out) leaves the queue and
// costs nothing. When the queue is already longer than any proxy would wait out, the answer is a
// 503 with Retry-After at once: a GET, so nothing is lost, and the browser or proxy may ask again.

export type TPageAdmission = {
  // Runs `render` (which answers `res`) when a slot is free, or answers 503 if too many wait.
  admit(res: ServerResponse, render: () => void): void;
  readonly rendering: number;
  readonly waiting: number;
};

export type CreatePageAdmissionOptions = { concurrency: number; maxWaiting: number };

export function createPageAdmission({ concurrency, maxWaiting }: CreatePageAdmissionOptions): TPageAdmission {
  const queue = new PQueue({ concurrency });
  // Renders whose slot is theirs, started one per turn (setImmediate from inside an immediate
  // waits for the next turn, after its I/O: a new connection among it).
  const starts: (() => void)[] = [];
  let isStarting = false;
  const startNext = () => {
    starts.shift()?.();
    if (starts.length) setImmediate(startNext);
    else isStarting = false;
  };
  const startInTurn = (start: () => void) => {
    starts.push(start);
    if (isStarting) return;
    isStarting = true;
    setImmediate(startNext);
  };
  const admit = (res: ServerResponse, render: () => void) => {
    if (queue.size >= maxWaiting) {
      res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8', 'retry-after': '2', 'cache-control': 'no-store' });
      res.end('Busy, try again shortly');
      return;
    }
    // Gone before its turn (the reader left): it leaves the queue unrendered. The slot is held
    // until the response is over — sent or cut off — whichever happens.
    const gone = new AbortController();
    res.once('close', () => gone.abort());
    queue
      .add(
        () =>
          new Promise<void>((resolve) => {
            if (res.closed || res.destroyed) return resolve();
            res.once('close', () => resolve());
            startInTurn(() => {
              // Gone while its turn came: the slot is already free.
              if (res.closed || res.destroyed) return;
              try {
                render();
              } catch {
                // A render that fails before it has answered still answers, and frees its slot.
                if (res.headersSent) res.destroy();
                else res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end('Internal error');
              }
            });
          }),
        { signal: gone.signal },
      )
      .catch(() => {
        // Aborted while waiting: nothing was rendered and there is nobody to answer.
      });
  };
  return {
    admit,
    get rendering() {
      return queue.pending;
    },
    get waiting() {
      return queue.size;
    },
  };
}
