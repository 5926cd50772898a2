import { pino } from 'pino';

/** The one logger; each capability takes a child: `log.child({ cap: 'relay' })`. */
export const log = pino({
  level: process.env.LOG_LEVEL ?? (process.env.NODE_ENV === 'test' ? 'silent' : 'info'),
  base: undefined,
});
