// What must finish before this process exits on SIGTERM/SIGINT: the outbox worker (in-flight
// deliveries end, unstarted leases are handed back), the relay (DATA in flight is answered).
// scripts/server.mjs loads this file directly and the Next.js server bundle has its own copy,
// so the list lives on globalThis; the file imports nothing of the project's.
type TShutdownHook = () => Promise<void>;

const KEY = Symbol.for('sealpost.shutdown');

const hooks = (): TShutdownHook[] => {
  const holder = globalThis as unknown as Record<symbol, TShutdownHook[] | undefined>;
  holder[KEY] ??= [];
  return holder[KEY];
};

export function onShutdown(hook: TShutdownHook): void {
  hooks().push(hook);
}

// Runs every hook at once and waits for all of them (a failing one does not stop the others).
export async function runShutdownHooks(): Promise<void> {
  await Promise.allSettled(hooks().map((hook) => hook()));
}
