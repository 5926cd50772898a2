'use client';

import { useEffect, useState } from 'react';

/**
 * False in the server's HTML and until React has attached its handlers. Forms disable their submit
 * button until then: a click before hydration would post the page to itself and lose the input.
 */
export function useHydrated(): boolean {
  const [hydrated, setHydrated] = useState(false);
  useEffect(() => setHydrated(true), []);
  return hydrated;
}
