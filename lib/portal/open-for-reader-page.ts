import 'server-only';
import { loadForPage } from '../http/load-for-page';
import type { OpenForReaderOptions } from './open-for-reader';
import { openForRequest } from './request-session';

// openForReader for a page: no session is a 401 page, someone else's message a 403 page, a
// message that can no longer be opened its own page, with its HTTP status.
export const openForReaderPage = ({ ctx, tenant, messageId }: Omit<OpenForReaderOptions, 'sessionValue'>) =>
  loadForPage(() => openForRequest({ ctx, tenant, messageId }), { goneTo: `/m/${messageId}/gone` });
