// GET / – the base host: what this server is; recipients arrive on their tenant's host.
export default function HomePage() {
  return (
    <main className="mx-auto max-w-xl p-6">
      <h1 className="text-2xl font-semibold">Sealpost</h1>
      <p className="mt-4">
        This server delivers encrypted email. If you received an encrypted message, open the link in that email or the attached{' '}
        <code>message.html</code>.
      </p>
    </main>
  );
}
