'use client';

import { useCallback, useEffect, useRef, useState } from 'react';
import type { Doc } from 'yjs';
import type { Awareness } from 'y-protocols/awareness';
import { colorFor } from '../../../lib/browser/client/accountsApi';
import { yjsParams } from '../../../lib/browser/client/pageIdentity';
import { parseControl, type ControlState } from '../../../lib/shared/protocol';

/** Someone in the room, from the room's Yjs awareness (accounts contract's fields). */
export interface PresentUser {
  clientId: number;
  memberId: string;
  name: string;
  color: string;
  typing: boolean;
  tab: string;
  self: boolean;
}

export type { ControlState };

const NO_CONTROL: ControlState = { mode: 'all', holder: null, hands: [] };
/** "typing" stays on this long after the last keystroke. */
const TYPING_HOLD_MS = 2000;
const MAX_NAME_CHARS = 64;
/** Awareness states beyond this many are not drawn (a huge class still renders). */
const MAX_PEOPLE_SHOWN = 200;

export function anonymousName(): string {
  const key = 'tandem:name';
  let n = localStorage.getItem(key);
  if (!n) localStorage.setItem(key, (n = `Guest ${Math.floor(1000 + Math.random() * 9000)}`));
  return n;
}

/**
 * The room's Yjs document: presence (names, colours, typing, which tab), the control map and the
 * notes text. yjs and y-websocket are imported inside the effect so they are never bundled into
 * server code (yjs warns when it is loaded twice).
 */
export function useRoomCollab(roomId: string, me: { memberId: string; name: string } | null, enabled: boolean) {
  const [people, setPeople] = useState<PresentUser[]>([]);
  const [doc, setDoc] = useState<Doc | null>(null);
  const [control, setControl] = useState<ControlState>(NO_CONTROL);
  const awareness = useRef<Awareness | null>(null);
  const typingTimer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const tab = useRef('main');
  const memberId = me?.memberId;
  const name = me?.name;

  useEffect(() => {
    if (!enabled) return;
    let disposed = false;
    let cleanup = () => {};
    void (async () => {
      const [Y, { WebsocketProvider }] = await Promise.all([import('yjs'), import('y-websocket')]);
      if (disposed) return;
      const d = new Y.Doc();
      const proto = location.protocol === 'https:' ? 'wss' : 'ws';
      const provider = new WebsocketProvider(`${proto}://${location.host}/yjs`, roomId, d, { disableBc: true, params: yjsParams() });
      const aw = provider.awareness;
      awareness.current = aw;
      const id = memberId ?? `a:${sessionStorage.getItem('tandem:client') ?? aw.clientID}`;
      aw.setLocalState({ user: { memberId: id, name: name ?? anonymousName(), color: colorFor(id) }, typing: false, tab: tab.current });
      const update = () => {
        const list: PresentUser[] = [];
        aw.getStates().forEach((s, clientId) => {
          if (list.length >= MAX_PEOPLE_SHOWN) return;
          const u = (s as { user?: { memberId?: unknown; name?: unknown; color?: unknown } }).user;
          if (!u || typeof u.name !== 'string') return;
          const mid = typeof u.memberId === 'string' ? u.memberId : `c:${clientId}`;
          list.push({
            clientId,
            memberId: mid,
            name: u.name.slice(0, MAX_NAME_CHARS),
            // Only our own colours: a colour string from someone else never reaches a style unchecked.
            color: colorFor(mid),
            typing: (s as { typing?: unknown }).typing === true,
            tab: typeof (s as { tab?: unknown }).tab === 'string' ? String((s as { tab: string }).tab).slice(0, 32) : 'main',
            self: clientId === aw.clientID,
          });
        });
        setPeople(list.sort((a, b) => (a.self ? -1 : b.self ? 1 : a.name.localeCompare(b.name))));
      };
      aw.on('change', update);
      update();
      const ctl = d.getMap('control');
      const onControl = () => setControl(parseControl(ctl.toJSON()));
      ctl.observe(onControl);
      onControl();
      setDoc(d);
      cleanup = () => {
        aw.off('change', update);
        ctl.unobserve(onControl);
        awareness.current = null;
        clearTimeout(typingTimer.current);
        provider.destroy();
        d.destroy();
        setDoc(null);
        setPeople([]);
        setControl(NO_CONTROL);
      };
    })();
    return () => {
      disposed = true;
      cleanup();
    };
  }, [roomId, enabled, memberId, name]);

  /** Marks me as typing for a moment (called on each keystroke; cheap when already on). */
  const typed = useCallback(() => {
    const aw = awareness.current;
    if (!aw) return;
    if (aw.getLocalState()?.typing !== true) aw.setLocalStateField('typing', true);
    clearTimeout(typingTimer.current);
    typingTimer.current = setTimeout(() => awareness.current?.setLocalStateField('typing', false), TYPING_HOLD_MS);
  }, []);

  const watching = useCallback((t: string) => {
    tab.current = t;
    const aw = awareness.current;
    if (aw && aw.getLocalState()?.tab !== t) aw.setLocalStateField('tab', t);
  }, []);

  return { people, doc, control, typed, watching };
}
