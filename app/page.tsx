import Room from './_components/Room';

/** `/`: the default room's Debian-style terminal, like WebVM's front page. */
export default function Home() {
  return <Room roomId="default" />;
}
