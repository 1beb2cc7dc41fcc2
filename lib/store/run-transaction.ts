import type { Transaction } from 'kysely';
import type { TDb } from './db';
import type { TDatabase } from './schema';

export type RunTransactionOptions<T> = { db: TDb; work: (trx: Transaction<TDatabase>) => Promise<T> };

type TPending = { work: (trx: Transaction<TDatabase>) => Promise<unknown>; resolve(value: unknown): void; reject(error: unknown): void };
type TQueue = { pending: TPending[]; isRunning: boolean; timer?: NodeJS.Timeout };

// More than this many writers in one group would make the first of them wait for the last.
const MAX_GROUP = 64;
// How long the first writer of a group waits for others to join (PostgreSQL's commit_delay).
// better-sqlite3's fsync blocks the event loop, so nobody can join while a commit runs: writers
// that are a few milliseconds behind (reading before they write) join in this window instead.
const GATHER_MS = 2;
const queues = new WeakMap<TDb, TQueue>();

// One unit of work, committed all-or-nothing.
//
// PostgreSQL: a transaction of its own on the pool (the server commits concurrent transactions
// together by itself). SQLite: group commit. SQLite has one writer, and each COMMIT ends in an
// fsync (synchronous=FULL) that better-sqlite3 runs on the event loop, so a relay answering many
// connections spent most of its time waiting on the disk one message at a time. Works that arrive
// while a group commits are gathered into the next group: each runs in its own savepoint (a work
// that throws undoes only its own writes and gets its own error), then one COMMIT — one fsync —
// makes the whole group durable before any of its callers hears "committed". If that COMMIT
// fails, every work of the group gets the error and nothing of it is stored. Written here
// because neither kysely nor better-sqlite3 offers group commit; kysely's savepoints do the rest.
export function runTransaction<T>({ db, work }: RunTransactionOptions<T>): Promise<T> {
  if (db.dialectName === 'postgres') return db.transaction().execute(work);
  let queue = queues.get(db);
  if (!queue) {
    queue = { pending: [], isRunning: false };
    queues.set(db, queue);
  }
  const q = queue;
  return new Promise<T>((resolve, reject) => {
    q.pending.push({ work, resolve: resolve as (value: unknown) => void, reject });
    if (q.isRunning) return;
    if (q.pending.length >= MAX_GROUP) {
      clearTimeout(q.timer);
      void drain(db, q);
    } else
      q.timer ??= setTimeout(() => {
        void drain(db, q);
      }, GATHER_MS);
  });
}

async function drain(db: TDb, queue: TQueue): Promise<void> {
  queue.timer = undefined;
  queue.isRunning = true;
  try {
    while (queue.pending.length) await commitGroup(db, queue.pending.splice(0, MAX_GROUP));
  } finally {
    queue.isRunning = false;
  }
}

async function commitGroup(db: TDb, group: TPending[]): Promise<void> {
  const outcomes: Array<{ isOk: true; value: unknown } | { isOk: false; error: unknown }> = [];
  let trx: Awaited<ReturnType<ReturnType<TDb['startTransaction']>['execute']>> | undefined;
  try {
    trx = await db.startTransaction().execute();
    for (const [i, pending] of group.entries()) {
      const name = `work${i}`;
      const sp = await trx.savepoint(name).execute();
      try {
        outcomes.push({ isOk: true, value: await pending.work(sp) });
        await sp.releaseSavepoint(name).execute();
      } catch (error) {
        outcomes.push({ isOk: false, error });
        await sp.rollbackToSavepoint(name).execute();
        await sp.releaseSavepoint(name).execute();
      }
    }
    await trx.commit().execute();
  } catch (error) {
    // BEGIN, a savepoint or the COMMIT failed: the group is rolled back as one.
    await trx
      ?.rollback()
      .execute()
      .catch(() => undefined);
    for (const pending of group) pending.reject(error);
    return;
  }
  for (const [i, pending] of group.entries()) {
    const outcome = outcomes[i]!;
    if (outcome.isOk) pending.resolve(outcome.value);
    else pending.reject(outcome.error);
  }
}
