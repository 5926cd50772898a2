import crypto from 'node:crypto';
import { promisify } from 'node:util';

/**
 * Password hashing with scrypt (node:crypto, no dependency) and a small password policy.
 *
 * Stored form, PHC-like so the cost can be raised later without breaking old hashes:
 *   `$scrypt$ln=15,r=8,p=1$<salt base64url>$<hash base64url>`
 * `ln` is log2(N). `needsRehash` tells a sign-in to re-hash with the current parameters.
 */
export interface ScryptParams {
  /** log2 of the CPU/memory cost N. */
  ln: number;
  r: number;
  p: number;
}

/** N=2^15, r=8: 32 MiB and ~0.1–0.3 s per hash on one core. */
export const DEFAULT_SCRYPT_PARAMS: ScryptParams = { ln: 15, r: 8, p: 1 };
export const MIN_PASSWORD_CHARS = 10;
export const MAX_PASSWORD_CHARS = 200;
const SALT_BYTES = 16;
const HASH_BYTES = 32;
/** Refuse stored parameters beyond these: a tampered row must not make us allocate gigabytes. */
const MAX_LN = 20;
const MAX_R = 32;
const MAX_P = 16;
const MAX_SCRYPT_MEM_BYTES = 512 * 1024 * 1024;

const scrypt = promisify(crypto.scrypt) as (pw: crypto.BinaryLike, salt: crypto.BinaryLike, len: number, opts: crypto.ScryptOptions) => Promise<Buffer>;

/** NFKC so the same password typed on another keyboard or OS (composed vs decomposed é) matches. */
function normalize(password: string): string {
  return password.normalize('NFKC');
}

function derive(password: string, salt: Buffer, params: ScryptParams): Promise<Buffer> {
  const N = 2 ** params.ln;
  // Node refuses by default above 32 MiB; scrypt needs 128·N·r bytes plus a little.
  const maxmem = Math.min(MAX_SCRYPT_MEM_BYTES, 256 * N * params.r);
  return scrypt(normalize(password), salt, HASH_BYTES, { N, r: params.r, p: params.p, maxmem });
}

export async function hashPassword(password: string, params: ScryptParams = DEFAULT_SCRYPT_PARAMS): Promise<string> {
  const salt = crypto.randomBytes(SALT_BYTES);
  const hash = await derive(password, salt, params);
  return `$scrypt$ln=${params.ln},r=${params.r},p=${params.p}$${salt.toString('base64url')}$${hash.toString('base64url')}`;
}

interface Parsed {
  params: ScryptParams;
  salt: Buffer;
  hash: Buffer;
}

const ENCODED_RE = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,3}),p=(\d{1,3})\$([A-Za-z0-9_-]{16,88})\$([A-Za-z0-9_-]{16,88})$/;

function parse(encoded: string): Parsed | null {
  const m = ENCODED_RE.exec(encoded);
  if (!m) return null;
  const params = { ln: Number(m[1]), r: Number(m[2]), p: Number(m[3]) };
  if (params.ln < 1 || params.ln > MAX_LN || params.r < 1 || params.r > MAX_R || params.p < 1 || params.p > MAX_P) return null;
  return { params, salt: Buffer.from(m[4], 'base64url'), hash: Buffer.from(m[5], 'base64url') };
}

/**
 * True when `password` matches `encoded`. Compares in constant time; false (never throws) for a
 * malformed or unsupported stored hash, a non-string or an over-long password.
 */
export async function verifyPassword(password: unknown, encoded: string): Promise<boolean> {
  const parsed = parse(encoded);
  if (!parsed) return false;
  const ok = typeof password === 'string' && password.length <= MAX_PASSWORD_CHARS * 4;
  // Hash even when we already know the answer, so a refusal takes as long as a real check.
  const got = await derive(ok ? password : '', parsed.salt, parsed.params);
  return ok && got.length === parsed.hash.length && crypto.timingSafeEqual(got, parsed.hash);
}

/** True when a stored hash was made with other parameters than `params` (re-hash after sign-in). */
export function needsRehash(encoded: string, params: ScryptParams = DEFAULT_SCRYPT_PARAMS): boolean {
  const parsed = parse(encoded);
  return !parsed || parsed.params.ln !== params.ln || parsed.params.r !== params.r || parsed.params.p !== params.p;
}

export type PasswordProblem = 'PASSWORD_TOO_SHORT' | 'PASSWORD_TOO_LONG' | 'PASSWORD_TOO_SIMPLE';

/** Passwords that pass the character rules but are on every attacker's first list. */
const COMMON = new Set(['password123', 'password1234', 'password12345', 'password!23', 'qwerty12345', 'qwerty123456', 'iloveyou123', 'welcome123', 'letmein123', 'admin12345', 'changeme123', 'p@ssw0rd123', 'passw0rd123', 'abc123abc123', 'tandem12345']);

/**
 * The policy, in characters (code points) after NFKC: 10–200 long; at least two kinds of character
 * (lower, upper, digit, other) unless it is a passphrase of 16 or more; at least 5 distinct
 * characters; not a well-known password. Returns the first rule broken, or null.
 */
export function passwordProblem(password: string): PasswordProblem | null {
  if (password.length > MAX_PASSWORD_CHARS * 4) return 'PASSWORD_TOO_LONG'; // before any work on a huge input
  const chars = [...normalize(password)];
  if (chars.length < MIN_PASSWORD_CHARS) return 'PASSWORD_TOO_SHORT';
  if (chars.length > MAX_PASSWORD_CHARS) return 'PASSWORD_TOO_LONG';
  const kinds = [/\p{Ll}/u, /\p{Lu}/u, /\p{Nd}/u, /[^\p{Ll}\p{Lu}\p{Nd}]/u].filter((re) => chars.some((c) => re.test(c))).length;
  if (kinds < 2 && chars.length < 16) return 'PASSWORD_TOO_SIMPLE';
  if (new Set(chars).size < 5) return 'PASSWORD_TOO_SIMPLE';
  if (COMMON.has(chars.join('').toLowerCase())) return 'PASSWORD_TOO_SIMPLE';
  return null;
}
