import type { Kysely, Transaction } from 'kysely';
import type { TDatabase, TReaderViewTable } from './schema';

type TDbLike = Kysely<TDatabase> | Transaction<TDatabase>;

export type GetReaderViewOptions = { db: TDbLike; messageId: string; variant: string };

export async function getReaderView({ db, messageId, variant }: GetReaderViewOptions): Promise<TReaderViewTable | undefined> {
  return db.selectFrom('reader_views').selectAll().where('message_id', '=', messageId).where('variant', '=', variant).executeTakeFirst();
}

export type PutReaderViewOptions = { db: TDbLike; row: TReaderViewTable };

// Stores (or replaces, after a sanitiser upgrade) one rendered view.
export async function putReaderView({ db, row }: PutReaderViewOptions): Promise<void> {
  await db
    .insertInto('reader_views')
    .values(row)
    .onConflict((oc) =>
      oc
        .columns(['message_id', 'variant'])
        .doUpdateSet({ version: row.version, sealed: row.sealed, expires_at: row.expires_at, created_at: row.created_at }),
    )
    .execute();
}

export async function deleteReaderViews(db: TDbLike, messageId: string): Promise<void> {
  await db.deleteFrom('reader_views').where('message_id', '=', messageId).execute();
}

// Housekeeping: views of messages whose held envelope has run out. Returns how many were deleted.
export async function purgeReaderViews(db: TDbLike, now: number): Promise<number> {
  const result = await db.deleteFrom('reader_views').where('expires_at', '<=', now).executeTakeFirst();
  return Number(result.numDeletedRows);
}
