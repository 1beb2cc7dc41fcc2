// 401 – no session for what was asked
export default function Unauthorized() {
  return (
    <main className="mx-auto max-w-xl p-6">
      <h1 className="text-2xl font-semibold">Please sign in</h1>
      <p className="mt-4">To read this message, open the link in the email you received and ask for a passcode.</p>
    </main>
  );
}
