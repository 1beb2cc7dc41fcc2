'use client';

import type { ChangeEvent } from 'react';

export type AttachmentsInputProps = { id: string; name: string; maxFiles: number; maxBytes: number; refusal: string };

// With JavaScript on, files over the limits are refused in the page, before a long upload that the
// server would refuse anyway (and the text written beside them is kept). Without it, the server's
// check is the only one.
export function AttachmentsInput({ id, name, maxFiles, maxBytes, refusal }: AttachmentsInputProps) {
  const check = (event: ChangeEvent<HTMLInputElement>) => {
    const files = [...(event.target.files ?? [])];
    const total = files.reduce((n, f) => n + f.size, 0);
    event.target.setCustomValidity(files.length > maxFiles || total > maxBytes ? refusal : '');
    event.target.reportValidity();
  };
  return <input id={id} name={name} type="file" multiple onChange={check} className="mt-1 block w-full min-h-11" />;
}
