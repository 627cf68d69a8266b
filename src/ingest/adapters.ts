import { convertClaim } from './vn-claim';
import type { FeedAdapter } from './intake';

/** Vietnamese claim XML (GIAMDINHHS envelope or one inner table): one unit per HOSO. */
export const vnClaimAdapter: FeedAdapter = {
  feed: 'vn-claim',
  convert: (raw, meta) => convertClaim(raw, meta.facility ? { facility: meta.facility } : {}),
};
