import { MAX_SCREEN_INPUT_EVENTS, type ScreenInputEvent } from '../../shared/protocol';
import { KeyTranslator } from './KeyTranslator';

/** Mouse motion is summed and sent this often, not per pointer event. */
const MOUSE_FLUSH_MS = 50;

/**
 * Listens for keyboard and mouse on a focusable screen element and hands the VM's input events to
 * `sink` (the VM itself on the host, the socket on a guest). Returns the function that detaches it.
 */
export function attachScreenInput(el: HTMLElement, sink: (events: ScreenInputEvent[]) => void): () => void {
  const keys = new KeyTranslator();
  let dx = 0;
  let dy = 0;
  let buttons = 0;
  let flushTimer: ReturnType<typeof setTimeout> | null = null;
  const emit = (evs: ScreenInputEvent[]) => {
    for (let i = 0; i < evs.length; i += MAX_SCREEN_INPUT_EVENTS) sink(evs.slice(i, i + MAX_SCREEN_INPUT_EVENTS));
  };
  const flushMouse = () => {
    flushTimer = null;
    const clamp = (v: number) => Math.max(-4096, Math.min(4096, Math.round(v)));
    emit([{ kind: 'mouse', dx: clamp(dx), dy: clamp(dy), buttons }]);
    dx = dy = 0;
  };
  const onKeyDown = (e: KeyboardEvent) => {
    e.preventDefault(); // Tab, Backspace, Ctrl+W… belong to the VM while its screen has focus
    const evs = keys.keydown(e);
    if (evs.length) emit(evs);
  };
  const onKeyUp = (e: KeyboardEvent) => {
    e.preventDefault();
    const evs = keys.keyup(e);
    if (evs.length) emit(evs);
  };
  const onBlur = () => {
    const evs = keys.releaseAll();
    if (evs.length) emit(evs);
  };
  const onMove = (e: MouseEvent) => {
    dx += e.movementX;
    dy += e.movementY;
    flushTimer ??= setTimeout(flushMouse, MOUSE_FLUSH_MS);
  };
  const onButtons = (e: MouseEvent) => {
    if (e.type === 'mousedown') el.focus();
    buttons = e.buttons & 7;
    if (flushTimer) clearTimeout(flushTimer);
    flushMouse();
  };
  const onWheel = (e: WheelEvent) => {
    e.preventDefault();
    emit([{ kind: 'wheel', dy: Math.sign(e.deltaY) }]);
  };
  const onContext = (e: Event) => e.preventDefault();
  const listeners: [string, EventListener][] = [
    ['keydown', onKeyDown as EventListener],
    ['keyup', onKeyUp as EventListener],
    ['blur', onBlur],
    ['mousemove', onMove as EventListener],
    ['mousedown', onButtons as EventListener],
    ['mouseup', onButtons as EventListener],
    ['wheel', onWheel as EventListener],
    ['contextmenu', onContext],
  ];
  el.tabIndex = 0;
  // Not passive: wheel scrolling of the page is prevented while the pointer is on the screen.
  for (const [type, fn] of listeners) el.addEventListener(type, fn, { passive: false });
  return () => {
    if (flushTimer) clearTimeout(flushTimer);
    for (const [type, fn] of listeners) el.removeEventListener(type, fn);
  };
}
