// The two parts of mailauth 7.1 (JavaScript, no typings of their own) that oversigning needs.
declare module 'mailauth/lib/dkim/dkim-signer' {
  export type TParsedHeader = { key: string; casedKey: string; line: Buffer };
  export class DkimSigner {
    constructor(options: unknown);
    headers: { parsed: TParsedHeader[] } | null;
    signatureHeaders: string[];
    errors: Array<{ selector?: string; err?: unknown }>;
    getFieldNames(signatureData: unknown): string;
  }
}
declare module 'mailauth/lib/tools' {
  export function writeToStream(stream: unknown, input: Buffer | import('node:stream').Readable): Promise<void>;
}
