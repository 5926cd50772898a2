import type { V86, V86Options } from 'v86';

export type V86Constructor = new (o: V86Options) => V86;

let libPromise: Promise<V86Constructor> | null = null;

/** libv86.js is a classic script that defines window.V86; loading it this way keeps it out of the bundle. */
export function loadV86(src: string): Promise<V86Constructor> {
  libPromise ??= new Promise((resolve, reject) => {
    const w = window as unknown as { V86?: V86Constructor };
    if (w.V86) return resolve(w.V86);
    const s = document.createElement('script');
    s.src = src;
    s.onload = () => (w.V86 ? resolve(w.V86) : reject(new Error('v86 did not load')));
    s.onerror = () => {
      libPromise = null;
      reject(new Error(`could not load the v86 engine from ${src}`));
    };
    document.head.appendChild(s);
  });
  return libPromise;
}

const wasmModules = new Map<string, Promise<WebAssembly.Module>>();

/** Compiles v86's wasm once per page (streaming: compiled while it downloads). */
function compileWasm(url: string): Promise<WebAssembly.Module> {
  let p = wasmModules.get(url);
  if (!p) {
    p = (async () => {
      const r = await fetch(url);
      if (!r.ok) throw new Error(`could not load the v86 engine from ${url}: HTTP ${r.status}`);
      return WebAssembly.compileStreaming ? WebAssembly.compileStreaming(r) : WebAssembly.compile(await r.arrayBuffer());
    })();
    p.catch(() => wasmModules.delete(url)); // a later boot tries again
    wasmModules.set(url, p);
  }
  return p;
}

/**
 * Starts loading v86 (its script and its wasm, compiled) before the VM is created, so both
 * download while the page chooses the state to restore (and fetches it): a boot then waits for
 * the slower of the two, not their sum.
 */
export function preloadV86(lib: string, wasm: string): void {
  loadV86(lib).catch(() => {}); // bootOnce reports a failure when it needs the engine
  compileWasm(wasm).catch(() => {});
}

/**
 * v86's `wasm_fn`: instantiates the wasm preloadV86 compiled (v86 would fetch and compile it only
 * once created). When this browser cannot run it, v86's fallback build is tried, as v86 does.
 */
export function v86WasmFn(wasm: string): (imports: WebAssembly.Imports) => Promise<WebAssembly.Exports> {
  return async (imports) => {
    try {
      return (await WebAssembly.instantiate(await compileWasm(wasm), imports)).exports;
    } catch {
      const fallback = wasm.replace('v86.wasm', 'v86-fallback.wasm');
      return (await WebAssembly.instantiate(await compileWasm(fallback), imports)).exports;
    }
  };
}

/** v86's state header (src/state.js): STATE_MAGIC, or zstd's frame magic for a compressed state. */
const V86_STATE_MAGIC = 0x86768676;
const ZSTD_MAGIC = 0xfd2fb528;

/**
 * Why `state` cannot be a v86 state, or null. v86 reports a bad state only by throwing inside
 * its own loader, where nobody can catch it (the VM then never loads), so look first.
 */
export function notAV86State(state: ArrayBuffer): string | null {
  if (state.byteLength < 16) return `the saved VM is ${state.byteLength} bytes, too short to be one`;
  const magic = new DataView(state).getUint32(0, true);
  if (magic !== V86_STATE_MAGIC && magic !== ZSTD_MAGIC) return 'the saved VM is not a v86 state (damaged, or from another engine)';
  return null;
}
