// 403 – signed in, but not for this
export default function Forbidden() {
  return (
    <main className="mx-auto max-w-xl p-6">
      <h1 className="text-2xl font-semibold">This message was not sent to you</h1>
      <p className="mt-4">You are signed in for a different message. Open the link from the email this message came with.</p>
    </main>
  );
}
