/** A problem to show the user (role=alert, read out by screen readers); nothing when there is none. */
export default function Alert({ text, className = '' }: { text: string | null | undefined; className?: string }) {
  if (!text) return null;
  return (
    <div className={`notice bad ${className}`.trim()} role="alert">
      {text}
    </div>
  );
}
