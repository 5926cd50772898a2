/** What the room needs from a VM engine; v86 and CheerpX both implement it. */
import type { RawRoomStateCapture } from './RoomStateClient';
export interface BootProgress {
  phase: 'loading' | 'booting' | 'ready' | 'failed';
  /** 0..1, monotonic within a boot. */
  progress: number;
  message: string;
  /** With `failed`: the VM had been running and stopped (not a boot that failed). */
  stopped?: boolean;
}

export interface Engine {
  readonly name: 'v86' | 'cheerpx';
  /** Resolves when the guest's first shell prompt is up. */
  boot(onProgress: (p: BootProgress) => void): Promise<{ restored: boolean; ms: number }>;
  write(data: string): void;
  onOutput(cb: (data: string) => void): void;
  resize(cols: number, rows: number): void;
  /** Saves the running VM for this room's next load in this browser (engines with RAM snapshots). */
  save?(): Promise<{ bytes: number; ms: number }>;
  /** Uploads the running VM's state to the room on the server (v86 with a room link); null when it has none. */
  syncRoomState?(): Promise<{ bytes: number; ms: number } | null>;
  /** The VM's state for the room, captured synchronously (the page is closing); null when there is none to send. */
  captureRoomStateNow?(): RawRoomStateCapture | null;
  destroy(): Promise<void>;
}
