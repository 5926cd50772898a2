import ScreenRoom from '../_components/ScreenRoom';

/** `/alpine`: the `alpine` room's VM shown as a screen (`?room=<id>` shows another room that way). */
export default async function AlpinePage({ searchParams }: { searchParams: Promise<{ room?: string }> }) {
  const { room } = await searchParams;
  return <ScreenRoom roomId={typeof room === 'string' && room ? room : 'alpine'} />;
}
