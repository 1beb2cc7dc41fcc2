import 'server-only';
// Large bodies from anyone (message.html's envelope, up to the message limit) are read by at most
// this many requests at once; the others are answered 503 with Retry-After. This bounds one
// process's memory only (each process of a scaled-out deployment has its own slots), which is
// what it is for: concurrent uploads exhausting the server's memory.
export const MAX_LARGE_UPLOADS = 4;
export const LARGE_UPLOAD_RETRY_SECONDS = 5;

let inUse = 0;

// A slot for one large upload, or null when all are taken; the release is idempotent.
export function tryTakeUploadSlot(): (() => void) | null {
  if (inUse >= MAX_LARGE_UPLOADS) return null;
  inUse += 1;
  let isReleased = false;
  return () => {
    if (isReleased) return;
    isReleased = true;
    inUse -= 1;
  };
}

// Slots taken now (for tests and diagnostics).
export const uploadSlotsInUse = () => inUse;
