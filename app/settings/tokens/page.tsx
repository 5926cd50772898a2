import type { Metadata } from 'next';
import TokensSettings from './TokensSettings';

export const metadata: Metadata = { title: 'API tokens · Tandem' };

/** `/settings/tokens`: personal API tokens for the command API (issue #5). */
export default function TokensPage() {
  return <TokensSettings />;
}
