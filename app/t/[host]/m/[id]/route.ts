import { messagePageResponse } from '@/lib/http/message-page-response';
import { portalPage } from '@/lib/http/portal-page';

export const runtime = 'nodejs';

// GET /m/<id> – the decrypted message, for its signed-in recipient (a whole page, rendered by the
// handler: lib/http/message-page-response.tsx says why)
export const GET = portalPage<{ host: string; id: string }>(messagePageResponse);
