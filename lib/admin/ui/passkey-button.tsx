'use client';

import {
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  startAuthentication,
  startRegistration,
} from '@simplewebauthn/browser';
import { useState } from 'react';

export type PasskeyButtonProps = {
  mode: 'register' | 'signin';
  // Where the ceremony's two steps post (same origin).
  optionsUrl: string;
  verifyUrl: string;
  label: string;
  // Where to go once signed in (the server checks it again).
  next?: string;
  // The id of a text field whose value names the new passkey.
  nameFieldId?: string;
  failedText: string;
};

// WebAuthn is a browser API: this is the one step of the console that needs JavaScript (the page
// says so in a <noscript>). Both steps are same-origin JSON posts, checked like any admin route.
export function PasskeyButton({ mode, optionsUrl, verifyUrl, label, next, nameFieldId, failedText }: PasskeyButtonProps) {
  const [error, setError] = useState('');
  const [isBusy, setBusy] = useState(false);
  const post = async (url: string, body: unknown) => {
    const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const json = (await response.json().catch(() => ({}))) as { error?: { message?: string }; [key: string]: unknown };
    if (!response.ok) throw new Error(json?.error?.message ?? failedText);
    return json;
  };
  const run = async () => {
    setError('');
    setBusy(true);
    try {
      const { challengeId, options } = (await post(optionsUrl, {})) as {
        challengeId: string;
        options: PublicKeyCredentialCreationOptionsJSON & PublicKeyCredentialRequestOptionsJSON;
      };
      const response =
        mode === 'register' ? await startRegistration({ optionsJSON: options }) : await startAuthentication({ optionsJSON: options });
      const label = nameFieldId ? (document.getElementById(nameFieldId) as HTMLInputElement | null)?.value : undefined;
      const done = await post(verifyUrl, { challengeId, response, next, label });
      window.location.assign(String(done.next ?? '/admin/messages'));
    } catch (e) {
      setError(e instanceof Error && e.name !== 'NotAllowedError' ? e.message : failedText);
      setBusy(false);
    }
  };
  return (
    <div className="mt-6">
      <button
        type="button"
        onClick={run}
        disabled={isBusy}
        className="inline-flex min-h-11 items-center justify-center rounded-md bg-blue-800 px-6 py-3 font-semibold text-white focus:outline-none focus-visible:ring-4 focus-visible:ring-offset-2 disabled:opacity-60"
      >
        {label}
      </button>
      <p role="alert" className="mt-3 text-red-800">
        {error}
      </p>
    </div>
  );
}
