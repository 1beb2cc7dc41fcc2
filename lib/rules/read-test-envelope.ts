import { AppError } from '../errors';
import { normaliseAddress } from '../mail/address';

export type ReadTestEnvelopeOptions = {
  // MAIL FROM as typed (empty: the message's From).
  sender: string;
  // RCPT TO as typed, one a line or comma-separated (empty: the message's To, Cc and Bcc).
  recipients: string;
  maxRecipients: number;
};

// A typed SMTP envelope for "Test a message", checked as the relay checks one: each address
// normalised, none refused quietly, no more recipients than a message may have.
export function readTestEnvelope({ sender, recipients, maxRecipients }: ReadTestEnvelopeOptions) {
  const address = (typed: string, what: string) => {
    const normal = normaliseAddress(typed.trim());
    if (!normal) throw new AppError('BAD_REQUEST', `${what} “${typed.trim().slice(0, 100)}” is not a mail address`);
    return normal;
  };
  const typed = recipients.split(/[\n,]/).filter((r) => r.trim() !== '');
  if (typed.length > maxRecipients) throw new AppError('BAD_REQUEST', `At most ${maxRecipients} recipients`);
  return {
    sender: sender.trim() ? address(sender, 'The sender') : undefined,
    recipients: [...new Set(typed.map((r) => address(r, 'The recipient')))],
  };
}
