/**
 * Validated configuration. Imported by entry points only (server/index.ts, scripts, route
 * handlers); libraries take what they need as options.
 */
import { z } from 'zod';

const bool = z
  .enum(['1', '0', 'true', 'false', 'yes', 'no', ''])
  .default('')
  .transform((v) => v === '1' || v === 'true' || v === 'yes');

const schema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  /** The hostname Next and the server bind to; browse the same one (see README). */
  HOST: z.string().min(1).default('localhost'),
  PUBLIC_URL: z.url().optional(),
  DATA_DIR: z.string().min(1).default('./data'),
  API_KEY: z.string().min(1).optional(),
  AUTH_SECRET: z.string().min(16).optional(),
  /** GitHub OAuth app: sign-in with GitHub shows when both are set. */
  AUTH_GITHUB_ID: z.string().min(1).optional(),
  AUTH_GITHUB_SECRET: z.string().min(1).optional(),
  VM_ENGINE: z.enum(['auto', 'cheerpx', 'v86']).default('auto'),
  DISK_SOURCE: z.string().optional(),
  HEADLESS: z.enum(['auto', 'off']).default('auto'),
  /** A headless host with no command and no always-on room to serve is closed after this long. */
  HEADLESS_IDLE_SECONDS: z.coerce.number().int().min(5).max(86_400).default(300),
  GATEWAY_ALLOW_PRIVATE: bool,
  /** Per-room cap on stored VM states (chunks of the newest two states plus uploads in progress). */
  ROOM_STATE_MAX_MB: z.coerce.number().int().min(1).max(65_536).default(256),
  /** A room whose newest VM state is older than this loses its states. */
  ROOM_STATE_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type Env = z.infer<typeof schema> & { PUBLIC_URL: string };

export function loadEnv(source: NodeJS.ProcessEnv = process.env): Env {
  const cleaned = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== ''));
  const parsed = schema.safeParse(cleaned);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new Error(`Invalid environment:\n${lines.join('\n')}`);
  }
  const env = parsed.data;
  return { ...env, PUBLIC_URL: env.PUBLIC_URL ?? `http://${env.HOST}:${env.PORT}` };
}
