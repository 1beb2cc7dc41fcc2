// What each refusal tells the recipient, in plain words (English for now; catalogues come with i18n).
export const PORTAL_ERROR_TEXT: Record<string, string> = {
  RATE_LIMITED: 'A passcode was sent very recently. Please wait a little before asking for another.',
  LOCKED_OUT: 'Too many wrong passcodes. For your security, try again in an hour.',
  PASSCODE_WRONG: 'That passcode is not right. Check the latest email and try again.',
  PASSCODE_EXPIRED: 'This passcode has expired. Ask for a new one.',
  PASSCODE_EXHAUSTED: 'Too many wrong tries for this passcode. Ask for a new one.',
  PASSCODE_INVALID: 'This passcode can no longer be used. Ask for a new one.',
  FORBIDDEN: 'This form cannot be sent from here. Open the link from your email again.',
  SESSION: 'Please sign in to read this message.',
  BAD_REQUEST: 'Write a reply or attach a file.',
  PAYLOAD_TOO_LARGE: 'The attachments are too large: at most 10 files and 20 MB in all.',
};

export const portalErrorText = (code: string | undefined) => (code ? PORTAL_ERROR_TEXT[code] ?? 'Something went wrong. Please try again.' : null);
