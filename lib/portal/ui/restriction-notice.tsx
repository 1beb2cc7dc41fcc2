import 'server-only';
import type { ReactNode } from 'react';
import type { TRestrictions } from '../../templates/schema';

export type RestrictionNoticeProps = {
  restrictions: TRestrictions;
  text: { title: string; body: string; limits: string; encryptOnly: string };
};

// What the message's usage restrictions do, and (as plainly) what they cannot do.
export function RestrictionNotice({ restrictions, text }: RestrictionNoticeProps) {
  if (restrictions === 'none') return <p className="mb-4 text-sm text-gray-700">{text.encryptOnly}</p>;
  return (
    <section aria-labelledby="restriction" className="mb-4 rounded-md border border-amber-400 bg-amber-50 p-3 text-sm text-amber-950">
      <h2 id="restriction" className="text-base font-semibold">
        {text.title}
      </h2>
      <p className="mt-1">{text.body}</p>
      <p className="mt-1">{text.limits}</p>
    </section>
  );
}

// Rows of the watermark, every other one offset, enough to cover a long text body.
const ROWS = Array.from({ length: 30 }, (_, i) => `row-${i}`);
const TILES = Array.from({ length: 6 }, (_, i) => `tile-${i}`);

export type WatermarkedProps = { watermark: string | null; children: ReactNode };

// A text body with its reader's watermark over it, drawn by CSS alone (the HTML body gets the
// same from its own document, lib/http/restriction-overlay.tsx). React escapes the address.
export function Watermarked({ watermark, children }: WatermarkedProps) {
  if (watermark === null) return children;
  return (
    <div className="relative mt-4 overflow-hidden rounded-md [&>pre]:mt-0 [&>pre]:min-h-40">
      {children}
      <div aria-hidden="true" data-watermark={watermark} className="pointer-events-none absolute inset-0 overflow-hidden select-none">
        <div className="absolute -top-1/2 -left-1/2 h-[200%] w-[200%] -rotate-[24deg] text-[13px] leading-none font-semibold whitespace-nowrap text-gray-600/25">
          {ROWS.map((row) => (
            <div key={row} className="mb-14 even:-ml-36">
              {TILES.map((tile) => (
                <span key={tile} className="mr-14">
                  {watermark}
                </span>
              ))}
            </div>
          ))}
        </div>
      </div>
    </div>
  );
}
