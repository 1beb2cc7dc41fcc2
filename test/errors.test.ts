import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AppError } from '@/lib/errors';
import { toErrorResponse } from '@/lib/http/error-response';
import { logger } from '@/lib/logger';

// The logger's real output, as its destination receives it.
let lines: Array<Record<string, unknown>>;
let level: string;
beforeEach(() => {
  lines = [];
  level = logger.level;
  logger.level = 'info';
  const stream = (logger as unknown as Record<symbol, { write(s: string): boolean }>)[pino.symbols.streamSym]!;
  vi.spyOn(stream, 'write').mockImplementation((s: string) => {
    lines.push(JSON.parse(s));
    return true;
  });
});
afterEach(() => {
  logger.level = level;
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

const CONTENT = 'The secret body: account 12345678 for bob@gmail.com';

async function answer(error: unknown, route = 'POST /api/v1/messages') {
  const response = toErrorResponse(error, { route });
  return { status: response.status, body: (await response.json()) as { error: { code: string; message: string; errorId?: string } } };
}

describe('an unhandled error', () => {
  it.each([
    ['an Error', new Error(CONTENT), 'Error'],
    ['a TypeError', new TypeError(CONTENT), 'TypeError'],
    ['a library error with a code', Object.assign(new Error(`connect ECONNREFUSED ${CONTENT}`), { code: 'ECONNREFUSED' }), 'ECONNREFUSED'],
    ['a thrown string', CONTENT, 'string'],
  ])(
    '(%s) is logged as an id, the route and a code, with no stack and no message, and answered with the same id',
    async (_, error, code) => {
      vi.stubEnv('NODE_ENV', 'production');
      const { status, body } = await answer(error);
      expect(status).toBe(500);
      expect(body.error).toEqual({ code: 'INTERNAL', message: 'Internal error', errorId: expect.stringMatching(/^[0-9a-f-]{36}$/) });
      expect(lines).toHaveLength(1);
      const line = lines[0]!;
      expect(line).toMatchObject({ level: 50, errorId: body.error.errorId, route: 'POST /api/v1/messages', code, msg: 'unhandled error' });
      expect(line).not.toHaveProperty('stack');
      expect(line).not.toHaveProperty('err');
      const text = JSON.stringify(line);
      for (const leak of ['12345678', 'secret body', 'bob@gmail.com', 'at ', 'errors.test.ts']) expect(text).not.toContain(leak);
    },
  );

  it('gets a new id each time', async () => {
    const a = await answer(new Error('x'));
    const b = await answer(new Error('x'));
    expect(a.body.error.errorId).not.toBe(b.body.error.errorId);
    expect(lines.map((l) => l.errorId)).toEqual([a.body.error.errorId, b.body.error.errorId]);
  });

  it.each([
    ['production', 'debug', false],
    ['production', 'trace', false],
    ['development', 'info', false],
    ['development', 'debug', true],
    ['test', 'trace', true],
  ])('NODE_ENV=%s LOG_LEVEL=%s: stack logged %s', async (nodeEnv, logLevel, isLogged) => {
    vi.stubEnv('NODE_ENV', nodeEnv);
    vi.stubEnv('LOG_LEVEL', logLevel);
    await answer(new Error(CONTENT));
    expect(lines).toHaveLength(1);
    expect('stack' in lines[0]!).toBe(isLogged);
  });

  it('an AppError is answered with its own code and message and logged as nothing', async () => {
    const { status, body } = await answer(new AppError('CONFLICT', 'Already there'));
    expect(status).toBe(409);
    expect(body).toEqual({ error: { code: 'CONFLICT', message: 'Already there' } });
    expect(lines).toHaveLength(0);
  });
});
