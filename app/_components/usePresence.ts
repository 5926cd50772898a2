'use client';

import { useEffect, useState } from 'react';
import { yjsParams } from '../../lib/client/pageIdentity';

export interface PresentUser {
  clientId: number;
  name: string;
  color: string;
  role: string;
}

const COLORS = ['#6aa8ff', '#4ecb71', '#f5b94a', '#ff6b6b', '#c38bff', '#4fd1c5', '#f687b3'];

export function displayName(): string {
  const key = 'tandem:name';
  let n = localStorage.getItem(key);
  if (!n) localStorage.setItem(key, (n = `Guest ${Math.floor(1000 + Math.random() * 9000)}`));
  return n;
}

/**
 * Who is in the room, through the room's Yjs awareness. yjs is imported here, inside an effect,
 * so it is never bundled into server code (it warns when loaded twice).
 */
export function usePresence(roomId: string, role: string | undefined): PresentUser[] {
  const [users, setUsers] = useState<PresentUser[]>([]);
  useEffect(() => {
    if (!role) return;
    let disposed = false;
    let cleanup = () => {};
    void (async () => {
      const [Y, { WebsocketProvider }] = await Promise.all([import('yjs'), import('y-websocket')]);
      if (disposed) return;
      const doc = new Y.Doc();
      const proto = location.protocol === 'https:' ? 'wss' : 'ws';
      const provider = new WebsocketProvider(`${proto}://${location.host}/yjs`, roomId, doc, { disableBc: true, params: yjsParams() });
      const me = provider.awareness;
      me.setLocalStateField('user', { name: displayName(), color: COLORS[me.clientID % COLORS.length], role });
      const update = () => {
        const list: PresentUser[] = [];
        me.getStates().forEach((s, id) => {
          const u = (s as { user?: Omit<PresentUser, 'clientId'> }).user;
          if (u && typeof u.name === 'string') list.push({ clientId: id, name: u.name.slice(0, 64), color: String(u.color), role: String(u.role) });
        });
        setUsers(list.sort((a, b) => (a.role === 'host' ? -1 : b.role === 'host' ? 1 : a.name.localeCompare(b.name))));
      };
      me.on('change', update);
      update();
      cleanup = () => {
        me.off('change', update);
        provider.destroy();
        doc.destroy();
      };
    })();
    return () => {
      disposed = true;
      cleanup();
    };
  }, [roomId, role]);
  return users;
}
