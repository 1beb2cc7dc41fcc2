import { EventEmitter } from 'node:events';
import http, { type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../lib/env';
import { createPageAdmission, type TPageAdmission } from '../lib/http/page-admission';
import { makeTempDir } from './helpers/context';
import { requestAs, SETUP_TIMEOUT_MS, startServer } from './helpers/server';

type TBench = {
  admission: TPageAdmission;
  port: number;
  started: string[];
  peak: () => number;
  // Ends the render of the request named `name` (its answer is then sent), once it has begun.
  finish: (name: string) => Promise<void>;
  close: () => Promise<void>;
};

const until = async (check: () => boolean) => {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > 5000) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
};

// A real node:http server whose every request goes through the admission; each render waits
// until the test ends it, so the test decides when a slot frees.
async function startBench({ concurrency, maxWaiting }: { concurrency: number; maxWaiting: number }): Promise<TBench> {
  const admission = createPageAdmission({ concurrency, maxWaiting });
  const started: string[] = [];
  const enders = new Map<string, () => void>();
  let running = 0;
  let peak = 0;
  const server = http.createServer((req, res) => {
    const name = (req.url ?? '/').slice(1);
    admission.admit(res, () => {
      if (name.startsWith('throw')) throw new Error('render failed');
      started.push(name);
      running += 1;
      peak = Math.max(peak, running);
      res.once('close', () => (running -= 1));
      enders.set(name, () => res.end(`page ${name}`));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    admission,
    port: (server.address() as AddressInfo).port,
    started,
    peak: () => peak,
    finish: async (name) => {
      await until(() => enders.has(name));
      enders.get(name)!();
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

const get = (port: number, name: string) =>
  new Promise<{ status: number; body: string; retryAfter?: string }>((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: `/${name}`, agent: false }, (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode!, body, retryAfter: res.headers['retry-after'] as string | undefined }));
      })
      .on('error', reject);
  });

// A client that has asked (the request is on the wire) and has not read the answer; `leave()`
// hangs up.
async function ask(port: number, name: string, host = 'localhost') {
  const socket = net.connect(port, '127.0.0.1');
  await new Promise((r) => socket.once('connect', r));
  socket.write(`GET /${name} HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
  return { leave: () => socket.destroy() };
}

// Another reader, after whatever the test did, still gets a turn and the whole page.
async function expectAnotherPageRenders(bench: TBench) {
  const next = get(bench.port, 'next');
  await bench.finish('next');
  expect((await next).body).toBe('page next');
}

describe('page admission', () => {
  let bench: TBench | undefined;
  afterEach(async () => {
    await bench?.close();
    bench = undefined;
  });

  it('renders at most `concurrency` pages at once, the others in the order they asked', async () => {
    bench = await startBench({ concurrency: 2, maxWaiting: 100 });
    const answers: Promise<{ status: number; body: string }>[] = [];
    for (const name of ['a', 'b', 'c', 'd', 'e']) {
      answers.push(get(bench.port, name));
      await until(() => bench!.admission.rendering + bench!.admission.waiting === answers.length);
    }
    expect(bench.started).toEqual(['a', 'b']);
    expect(bench.admission.waiting).toBe(3);
    await bench.finish('b');
    await until(() => bench!.started.length === 3);
    expect(bench.started).toEqual(['a', 'b', 'c']);
    for (const name of ['a', 'c', 'd', 'e']) await bench.finish(name);
    expect((await Promise.all(answers)).map((a) => a.body)).toEqual(['page a', 'page b', 'page c', 'page d', 'page e']);
    expect(bench.peak()).toBe(2);
    expect(bench.started).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('a reader who leaves while waiting is never rendered, and the slots stay free for the others', async () => {
    bench = await startBench({ concurrency: 1, maxWaiting: 100 });
    const first = get(bench.port, 'first');
    await until(() => bench!.started.length === 1);
    const leaving = await Promise.all(['gone1', 'gone2', 'gone3'].map((name) => ask(bench!.port, name)));
    await until(() => bench!.admission.waiting === 3);
    for (const client of leaving) client.leave();
    await until(() => bench!.admission.waiting === 0);
    const last = get(bench.port, 'last');
    await until(() => bench!.admission.waiting === 1);
    await bench.finish('first');
    await bench.finish('last');
    expect((await first).body).toBe('page first');
    expect((await last).body).toBe('page last');
    expect(bench.started).toEqual(['first', 'last']);
    expect(bench.admission.rendering + bench.admission.waiting).toBe(0);
  });

  it('a reader who leaves during the render frees the slot', async () => {
    bench = await startBench({ concurrency: 1, maxWaiting: 100 });
    const client = await ask(bench.port, 'gone');
    await until(() => bench!.started.length === 1);
    client.leave();
    await expectAnotherPageRenders(bench);
  });

  it('a render that throws before answering gets a 500, and the next page still renders', async () => {
    bench = await startBench({ concurrency: 1, maxWaiting: 100 });
    expect((await get(bench.port, 'throw')).status).toBe(500);
    await expectAnotherPageRenders(bench);
  });

  it('starts one render per event loop turn, so the connections waiting to be accepted get in between renders', async () => {
    // Node.js accepts one new connection per turn: four renders started in one turn would keep a
    // reader who is connecting waiting for all four.
    const admission = createPageAdmission({ concurrency: 4, maxWaiting: 100 });
    const events: string[] = [];
    const answered: Promise<void>[] = [];
    for (const name of ['a', 'b', 'c', 'd']) {
      // A response as the admission sees one: it closes once answered.
      const res = Object.assign(new EventEmitter(), { closed: false, destroyed: false, headersSent: false });
      answered.push(new Promise((resolve) => res.once('close', resolve)));
      admission.admit(res as unknown as ServerResponse, () => {
        events.push(`render ${name}`);
        // What the event loop does next after this render: I/O, then this probe, in the next turn.
        setImmediate(() => events.push(`turn after ${name}`));
        res.closed = true;
        res.emit('close');
      });
    }
    await Promise.all(answered);
    await new Promise((r) => setImmediate(r));
    expect(events).toEqual([
      'render a',
      'turn after a',
      'render b',
      'turn after b',
      'render c',
      'turn after c',
      'render d',
      'turn after d',
    ]);
  });

  it('with too many already waiting: 503 at once, with Retry-After, and nothing rendered for it', async () => {
    bench = await startBench({ concurrency: 1, maxWaiting: 2 });
    const held = ['a', 'b', 'c'].map((name) => get(bench!.port, name));
    await until(() => bench!.admission.rendering === 1 && bench!.admission.waiting === 2);
    const refused = await get(bench.port, 'd');
    expect(refused.status).toBe(503);
    expect(refused.retryAfter).toBe('2');
    for (const name of ['a', 'b', 'c']) await bench.finish(name);
    expect((await Promise.all(held)).map((a) => a.status)).toEqual([200, 200, 200]);
    expect(bench.started).not.toContain('d');
  });
});

describe('SEALPOST_PAGE_CONCURRENCY', () => {
  it('defaults to 4 and takes a whole number from 1 to 1000', () => {
    const dir = makeTempDir();
    expect(parseConfig({ SEALPOST_DATA_DIR: dir }).SEALPOST_PAGE_CONCURRENCY).toBe(4);
    expect(parseConfig({ SEALPOST_DATA_DIR: dir, SEALPOST_PAGE_CONCURRENCY: '16' }).SEALPOST_PAGE_CONCURRENCY).toBe(16);
    for (const bad of ['0', '-1', '2.5', 'many', '1001'])
      expect(() => parseConfig({ SEALPOST_DATA_DIR: dir, SEALPOST_PAGE_CONCURRENCY: bad })).toThrow(/SEALPOST_PAGE_CONCURRENCY/);
  });

  it(
    'set to 1, the server answers every one of many readers asking at once, some of whom hang up, and the next reader after them',
    async () => {
      const server = await startServer({ SEALPOST_DATA_DIR: makeTempDir(), SEALPOST_PAGE_CONCURRENCY: '1' });
      try {
        const host = `demo.localhost:${server.port}`;
        // A link that is not one, alone: what every reader below must get too.
        const alone = await requestAs(server.port, host, '/r/not-a-token');
        expect(alone.status).toBeLessThan(500);
        const leaving = await Promise.all(Array.from({ length: 6 }, (_, i) => ask(server.port, `r/left-${i}`, host)));
        const asked = Array.from({ length: 12 }, (_, i) => requestAs(server.port, host, `/r/not-a-token-${i}`));
        for (const client of leaving) client.leave();
        const answers = await Promise.all(asked);
        expect(answers.map((a) => a.status)).toEqual(answers.map(() => alone.status));
        // And the next reader still gets a turn: no slot was kept by those who left.
        expect((await requestAs(server.port, host, '/r/not-a-token-last')).status).toBe(alone.status);
      } finally {
        await server.stop();
      }
    },
    SETUP_TIMEOUT_MS,
  );
});
