import fs from 'node:fs';
import { Worker } from 'node:worker_threads';
import { logger } from '../logger';

export type CreateWalCheckpointerOptions = { file: string };

export type TWalCheckpointer = {
  // After each commit: starts the background checkpoints once the write-ahead log has grown.
  noteCommit(): void;
  close(): void;
};

// The log size at which checkpoints move to their own thread; below it the process writes too
// little for them to matter (and a test's many small databases start no thread at all).
const START_AT_BYTES = 4 * 1024 * 1024;
const INTERVAL_MS = 200;
// The event loop's own connection still checkpoints when the log passes this many pages (4 KB
// each), should the thread be gone: the log never grows without bound.
export const FALLBACK_AUTOCHECKPOINT_PAGES = 16_384;

// The checkpointing connection: a PASSIVE checkpoint copies committed pages from the log into the
// database file and fsyncs it, never waiting for or blocking a reader or a writer.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require('better-sqlite3');
const db = new Database(workerData.file, { fileMustExist: true });
db.pragma('busy_timeout = 1000');
db.pragma('synchronous = FULL');
const checkpoint = () => { try { db.pragma('wal_checkpoint(PASSIVE)'); } catch {} };
const timer = setInterval(checkpoint, workerData.intervalMs);
parentPort.on('message', () => { clearInterval(timer); checkpoint(); db.close(); parentPort.close(); });
`;

// SQLite checkpoints the write-ahead log inside whichever commit crosses its threshold, and
// better-sqlite3 runs that on the event loop: every few hundred relayed messages one commit
// stalled every connection while megabytes were copied and fsynced. Here a worker thread with a
// connection of its own does it, on the machine's other core. Written here: better-sqlite3 has
// no background checkpointing of its own.
export function createWalCheckpointer({ file }: CreateWalCheckpointerOptions): TWalCheckpointer {
  let worker: Worker | null = null;
  let isClosed = false;
  let lastCheck = 0;
  const start = () => {
    worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { file, intervalMs: INTERVAL_MS } });
    worker.unref();
    worker.on('error', (error) => logger.warn({ code: (error as { code?: string }).code }, 'WAL checkpoint thread failed'));
  };
  return {
    noteCommit() {
      if (worker || isClosed) return;
      const now = Date.now();
      if (now - lastCheck < 250) return;
      lastCheck = now;
      try {
        if (fs.statSync(`${file}-wal`).size >= START_AT_BYTES) start();
      } catch {
        // No log yet.
      }
    },
    close() {
      isClosed = true;
      worker?.postMessage('stop');
      worker = null;
    },
  };
}
