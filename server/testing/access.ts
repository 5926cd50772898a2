import type { Access } from '../access/RoomAccess';

/** A member's access as RoomAccess would resolve it: a driver unless `over` says otherwise. */
export const accessOf = (memberId: string, over: Partial<Access> = {}): Access => ({
  memberId,
  name: memberId,
  role: 'driver',
  open: false,
  canType: true,
  canHost: false,
  canManage: false,
  canPushCommands: false,
  ...over,
});
