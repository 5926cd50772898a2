/** The page a room shows when the server refuses me: signed out, not a member, or access removed. */
export default function AccessDenied({ code, roomId, lost, message }: { code: 'UNAUTHORIZED' | 'FORBIDDEN'; roomId: string; lost: boolean; message?: string }) {
  const next = `/r/${encodeURIComponent(roomId)}`;
  return (
    <main className="auth">
      <div className="auth-card" data-error={code} data-lost={lost ? 'true' : 'false'}>
        <a href="/" className="auth-brand">Tandem</a>
        {code === 'UNAUTHORIZED' ? (
          <>
            <h1>{lost ? 'You were signed out of this room' : 'Sign in to join'}</h1>
            <p>This room is for its members. Sign in with the account it was shared with, or open the invite link you were sent.</p>
            <div className="row wrap">
              <a className="button" href={`/signin?next=${encodeURIComponent(next)}`}>
                Sign in
              </a>
              <a href={`/signup?next=${encodeURIComponent(next)}`}>Create an account</a>
            </div>
          </>
        ) : (
          <>
            <h1>{lost ? 'You no longer have access to this room' : 'Ask the owner for an invite link'}</h1>
            <p>
              {lost
                ? 'Your invite was revoked or you were removed from the room. Ask the owner for a new invite link if you need to come back.'
                : 'You are not a member of this room. Its owner can send you an invite link.'}
            </p>
            {message && <p className="muted">{message}</p>}
            <p className="auth-foot">
              <a href="/">Go to Tandem</a>
            </p>
          </>
        )}
      </div>
    </main>
  );
}
