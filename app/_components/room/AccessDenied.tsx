/**
 * The page a room shows when the server refuses me: signed out of a members-only room
 * (UNAUTHORIZED), not a member (FORBIDDEN), or, after being in, access taken away (`lost`: an
 * invite revoked, removed from the room, signed out elsewhere).
 */
export default function AccessDenied({ code, roomId, lost, message }: { code: 'UNAUTHORIZED' | 'FORBIDDEN'; roomId: string; lost: boolean; message?: string }) {
  const next = `/r/${encodeURIComponent(roomId)}`;
  const signIn = (
    <div className="row wrap">
      <a className="button" href={`/signin?next=${encodeURIComponent(next)}`}>
        Sign in
      </a>
      <a href={`/signup?next=${encodeURIComponent(next)}`}>Create an account</a>
    </div>
  );
  return (
    <main className="auth">
      <div className="auth-card" data-error={code} data-lost={lost ? 'true' : 'false'} role="alert">
        <a href="/" className="auth-brand">Tandem</a>
        {lost ? (
          <>
            <h1>You no longer have access to this room</h1>
            <p>
              The invite link you came through was revoked, you were removed from the room, or you were signed out. Ask the room’s owner for a new invite link if
              you need to come back.
            </p>
            {message && <p className="muted">The server said: {message}</p>}
            {code === 'UNAUTHORIZED' && signIn}
          </>
        ) : code === 'UNAUTHORIZED' ? (
          <>
            <h1>Sign in to join</h1>
            <p>This room is for its members. Sign in with the account it was shared with, or open the invite link you were sent.</p>
            {signIn}
          </>
        ) : (
          <>
            <h1>Ask the owner for an invite link</h1>
            <p>You are not a member of this room. Its owner or an instructor can send you an invite link.</p>
            {message && <p className="muted">The server said: {message}</p>}
          </>
        )}
        <p className="auth-foot">
          <a href="/">Go to Tandem</a>
        </p>
      </div>
    </main>
  );
}
