// Runs once when the Next.js server starts: migrate, seed the demo tenant, start the outbox worker.
export async function register() {
  if (process.env.NEXT_RUNTIME === 'nodejs') {
    const { bootServer } = await import('./lib/server/boot');
    await bootServer();
  }
}
