import { clearOverlays } from './OverlayIdbStore';
import { deleteSnapshots } from './snapshotStore';

/**
 * "Reset VM": forgets everything this browser keeps for a room's VMs — every tab's disk overlay
 * (files the guest wrote) and their snapshots — so the next boot starts from the pristine disk.
 * Stop the room's engines first (they flush pending writes on destroy).
 */
export async function resetRoomDisks(roomId: string): Promise<void> {
  await Promise.all([clearOverlays(`${roomId}:`), deleteSnapshots(`v86:room:${roomId}:`)]);
}
