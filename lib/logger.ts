import pino from 'pino';

// Tokens, passcodes, keys, cookies and message content never reach a log line.
export const REDACT_PATHS = [
  'token',
  '*.token',
  'envelope',
  '*.envelope',
  'passcode',
  '*.passcode',
  'key',
  '*.key',
  'apiKey',
  '*.apiKey',
  'authorization',
  '*.authorization',
  'cookie',
  '*.cookie',
  'headers.authorization',
  'headers.cookie',
  'raw',
  '*.raw',
  'body',
  '*.body',
  'subject',
  '*.subject',
  'masterKey',
  '*.masterKey',
  'secret',
  '*.secret',
];

export const logger = pino({
  level: process.env.LOG_LEVEL || 'info',
  base: { service: 'sealpost' },
  redact: { paths: REDACT_PATHS, censor: '[redacted]' },
});
