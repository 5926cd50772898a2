import { z } from 'zod';
import { ROLES } from '../../lib/shared/roles';
import { ROOM_GUESTS } from '../../lib/shared/protocol';
import type { RouteDoc } from '../http/routeDoc';
import { roomIdParam } from '../commands/apiSchemas';
import { internetStateSchema } from '../net/netDocs';
import { MAX_ALWAYS_ON_PER_USER, createRoomSchema, inviteSchema, patchRoomSchema, redeemSchema, setRoleSchema, signUpSchema, tokenRequestSchema } from './accountRoutes';

/**
 * The OpenAPI entries of the accounts routes (server/http/routes.ts puts each beside its route):
 * the requests are the schemas the handlers parse with; the answers are described here.
 */
const role = z.enum(ROLES);
const when = z.iso.datetime();
const userSchema = z.object({ id: z.string(), email: z.string(), name: z.string() }).meta({ id: 'User' });
const memberRoomSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    engine: z.enum(['auto', 'v86', 'cheerpx']).nullable(),
    guest: z.enum(ROOM_GUESTS).nullable(),
    role: role.describe('My role in it.'),
    createdAt: when,
    archivedAt: when.nullable(),
    alwaysOn: z.boolean(),
    live: z.boolean().describe('A host runs its VM now.'),
    recordInput: z.boolean().describe('Its recordings keep who typed what.'),
    replayOnly: z.boolean().describe('An imported recording: nothing to host or type into.'),
    internet: z.boolean().nullable().describe("The room's Internet switch; null follows the server's NET."),
    net: internetStateSchema.optional(),
  })
  .meta({ id: 'MemberRoom' });
const memberSchema = z.object({ memberId: z.string(), kind: z.enum(['user', 'guest']), name: z.string(), role }).meta({ id: 'Member' });
const inviteViewSchema = z
  .object({
    id: z.string(),
    roomId: z.string(),
    role,
    expiresAt: when,
    maxUses: z.number().int().nullable(),
    uses: z.number().int(),
    revokedAt: when.nullable(),
    createdBy: z.string().nullable(),
    createdAt: when,
  })
  .meta({ id: 'Invite' });
const tokenViewSchema = z.object({ id: z.string(), name: z.string(), createdAt: when, lastUsedAt: when.nullable() }).meta({ id: 'ApiToken' });
const redeemedSchema = z.object({ roomId: z.string(), role });
const noContent = { 204: { description: 'Done.' } };
const session = { auth: 'session' } as const;
const roomParams = { id: roomIdParam };

export const accountDocs = {
  me: { tag: 'accounts', auth: 'none', summary: 'Who is signed in (null when nobody)', responses: { 200: { description: 'The user.', schema: z.object({ user: userSchema.nullable() }) } } },
  signUp: {
    tag: 'accounts',
    auth: 'none',
    summary: 'Make an account (then sign in at /signin)',
    description: 'Answers the same for an email that has an account, so sign-up does not tell who has one. Rate-limited per client address.',
    body: signUpSchema,
    responses: { 201: { description: 'The account.', schema: z.object({ user: userSchema }) } },
    errors: [415, 429],
  },
  myRooms: {
    ...session,
    tag: 'rooms',
    summary: 'My rooms: the ones I own and the ones shared with me',
    query: z.object({ archived: z.enum(['1']).optional().describe('1: archived rooms too.') }),
    responses: { 200: { description: 'My rooms.', schema: z.object({ owned: z.array(memberRoomSchema), shared: z.array(memberRoomSchema) }) } },
  },
  createRoom: {
    ...session,
    tag: 'rooms',
    summary: 'Make a members-only room (I own it)',
    body: createRoomSchema,
    responses: { 201: { description: 'The room.', schema: z.object({ room: memberRoomSchema }) } },
    errors: [415],
  },
  updateRoom: {
    ...session,
    tag: 'rooms',
    summary: 'Rename, archive, keep always on, choose the engine or guest, switch the Internet (owners)',
    description: `A user keeps at most ${MAX_ALWAYS_ON_PER_USER} always-on rooms (429), the server a fixed number in all (409).`,
    params: roomParams,
    body: patchRoomSchema,
    responses: { 200: { description: 'The room.', schema: z.object({ room: memberRoomSchema }) } },
    errors: [403, 404, 409, 415, 429],
  },
  deleteRoom: { ...session, tag: 'rooms', summary: 'Delete a room and everything in it (owners)', params: roomParams, responses: noContent, errors: [403, 404, 415] },
  leave: {
    tag: 'rooms',
    auth: ['session'],
    summary: 'Leave a room (a member, or a guest by its room cookie)',
    description: "The last owner cannot leave (409). A guest's seat is revoked and its cookie cleared.",
    params: roomParams,
    responses: noContent,
    errors: [404, 409, 415],
  },
  members: {
    ...session,
    tag: 'members',
    summary: "The room's members and guests, with my own id and role",
    params: roomParams,
    responses: { 200: { description: 'Members.', schema: z.object({ me: z.object({ memberId: z.string(), role }), members: z.array(memberSchema) }) } },
    errors: [403, 404],
  },
  setMemberRole: {
    ...session,
    tag: 'members',
    summary: "Change someone's role (owners; instructors below instructor)",
    params: { ...roomParams, memberId: z.string() },
    body: setRoleSchema,
    responses: { 200: { description: 'The member.', schema: z.object({ member: memberSchema }) } },
    errors: [403, 404, 409, 415],
  },
  removeMember: { ...session, tag: 'members', summary: 'Remove someone from the room', params: { ...roomParams, memberId: z.string() }, responses: noContent, errors: [403, 404, 409, 415] },
  invites: {
    ...session,
    tag: 'invites',
    summary: "The room's invite links (instructors and owners)",
    params: roomParams,
    responses: { 200: { description: 'Newest first.', schema: z.object({ invites: z.array(inviteViewSchema) }) } },
    errors: [403, 404],
  },
  createInvite: {
    ...session,
    tag: 'invites',
    summary: 'Make an invite link: a role, an expiry and optional maximum uses',
    description: 'The token is shown once, here; only its hash is stored.',
    params: roomParams,
    body: inviteSchema,
    responses: { 201: { description: 'The invite, its token and link.', schema: z.object({ invite: inviteViewSchema, token: z.string(), url: z.string() }) } },
    errors: [403, 404, 415],
  },
  revokeInvite: {
    ...session,
    tag: 'invites',
    summary: 'Revoke an invite link (guests who joined by it lose access)',
    params: { ...roomParams, inviteId: z.string() },
    responses: noContent,
    errors: [403, 404, 415],
  },
  peekInvite: {
    tag: 'invites',
    auth: 'none',
    summary: 'What an invite link leads to (the join page)',
    params: { token: z.string() },
    responses: { 200: { description: 'The room and role.', schema: z.object({ roomId: z.string(), roomName: z.string(), role, expiresAt: when }) } },
    errors: [404, 410, 429],
  },
  redeemInvite: {
    tag: 'invites',
    auth: ['session', 'none'],
    summary: 'Join by an invite link: signed in as a member, else as a guest with a room cookie',
    params: { token: z.string() },
    body: redeemSchema,
    responses: { 200: { description: 'The room and my role in it.', schema: redeemedSchema } },
    errors: [404, 410, 415, 429],
  },
  listTokens: {
    ...session,
    tag: 'tokens',
    summary: 'My API tokens (never the secret)',
    responses: { 200: { description: 'Tokens.', schema: z.object({ tokens: z.array(tokenViewSchema) }) } },
  },
  createToken: {
    ...session,
    tag: 'tokens',
    summary: 'Make an API token for the command API (shown once)',
    body: tokenRequestSchema,
    responses: { 201: { description: 'The token and its secret.', schema: tokenViewSchema.extend({ token: z.string().describe('`tdm_…`: send it as a bearer token.') }) } },
    errors: [415],
  },
  revokeToken: { ...session, tag: 'tokens', summary: 'Revoke an API token', params: { tokenId: z.string() }, responses: noContent, errors: [404, 415] },
} satisfies Record<string, RouteDoc>;
