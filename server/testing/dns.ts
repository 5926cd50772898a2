import * as dnsPacket from 'dns-packet';

/** A DNS answer as tests read it (dns-packet's types leave out rcode and the A/AAAA data). */
export interface DecodedAnswer {
  id: number;
  type: string;
  rcode: string;
  flag_rd: boolean;
  flag_ra: boolean;
  answers: { type: string; name: string; ttl: number; data: string }[];
}

export function decodeAnswer(buf: Uint8Array): DecodedAnswer {
  return dnsPacket.decode(Buffer.from(buf)) as unknown as DecodedAnswer;
}

/** One A (or other type) query. */
export function dnsQuery(name: string, type: 'A' | 'AAAA' | 'TXT' = 'A', id = 1): Buffer {
  return dnsPacket.encode({ type: 'query', id, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type, name }] });
}
