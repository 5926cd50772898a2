import type { ReactNode } from 'react';
import type { BootProgress } from '../../../lib/browser/vm/Engine';

/**
 * The VM's boot progress: a progress bar and its message while it starts, the reason when it
 * failed (with `onFailed`, e.g. a Reset VM button), and the final message once it is up.
 */
export default function BootStatus({ progress, onFailed, ready }: { progress: BootProgress | null | undefined; onFailed?: ReactNode; ready?: ReactNode }) {
  if (!progress) return null;
  if (progress.phase === 'ready')
    return (
      <div className="status">
        {progress.message}
        {ready}
      </div>
    );
  const pct = Math.round(progress.progress * 100);
  const failed = progress.phase === 'failed';
  return (
    <>
      <div className="progress" role="progressbar" aria-valuenow={pct} aria-valuemin={0} aria-valuemax={100}>
        <div style={{ width: `${pct}%` }} />
      </div>
      <div className={`status ${failed ? 'bad' : ''}`}>
        {failed ? `${progress.stopped ? 'The VM stopped' : 'VM failed to start'}: ${progress.message}` : progress.message}
        {failed && onFailed}
      </div>
    </>
  );
}
