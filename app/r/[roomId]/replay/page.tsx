import Replay from '../../../_components/replay/Replay';

export default async function ReplayPage({ params }: { params: Promise<{ roomId: string }> }) {
  const { roomId } = await params;
  return <Replay roomId={roomId} />;
}
