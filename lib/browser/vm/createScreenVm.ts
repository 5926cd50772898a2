import type { EngineChoice } from './createEngine';
import type { GuestManifest } from '../../shared/GuestManifest';
import type { ScreenVm } from './ScreenVm';

export interface ScreenVmSetup {
  choice: EngineChoice;
  manifest: GuestManifest;
  container: HTMLElement;
  cheerpx: { disk: string; overlayKey: string };
  /** Shown to the user, e.g. when auto falls back to v86. */
  notice: (text: string) => void;
}

/** Like createEngine, for a VM shown as a screen: CheerpX's Alpine when it loads, else v86's VGA. */
export async function createScreenVm(s: ScreenVmSetup): Promise<ScreenVm> {
  if (s.choice !== 'v86') {
    try {
      const [{ loadCheerpX }, { CheerpXAlpine }] = await Promise.all([import('./CheerpXEngine'), import('./CheerpXAlpine')]);
      return new CheerpXAlpine(await loadCheerpX(), s.container, s.cheerpx);
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      if (s.choice === 'cheerpx') throw new Error(`CheerpX could not start: ${reason}`);
      s.notice(`CheerpX is not available here (${reason}); showing the v86 guest's VGA screen instead.`);
    }
  }
  const { V86Screen } = await import('./V86Screen');
  return new V86Screen(s.manifest, s.container);
}
