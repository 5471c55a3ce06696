/** Lots with an expiry (a replay's `points.lots`), summed by `expires_at`, soonest first. */
export function expiringByDate(lots) {
  const by = new Map();
  for (const lot of lots) if (lot.expires_at) by.set(lot.expires_at, (by.get(lot.expires_at) ?? 0) + lot.points);
  return [...by].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([expires_at, points]) => ({ expires_at, points }));
}
