import type { z } from 'zod';
import { HttpError } from './errors';

/** `input` as `schema` says, or a 400 BAD_MESSAGE naming the first problem (`field: why`). */
export function parse<S extends z.ZodType>(schema: S, input: unknown): z.infer<S> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new HttpError('BAD_MESSAGE', issue.path.length ? `${issue.path.join('.')}: ${issue.message}` : issue.message);
}
