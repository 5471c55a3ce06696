// The simulate report's last month (SPEC §5, §7.24). `by_month` runs through the local month (in
// the policy's `time_zone`) that contains `as_of`: that month is covered only from its first day
// 00:00 to `as_of`, so its figures are for part of a month (and, when `as_of` is a month's first
// instant, as in the presets, only for that instant: the points that expire then). The engine's
// figures are kept as they are; the page labels and draws that month as partial instead.
//
// A month is whole only when `as_of` is its end, i.e. the first instant (1st, 00:00:00) of the
// next local month; the engine's range then ends with that next month, so the report's last
// month is in practice always partial. The rule is applied as stated all the same.

const NANOS = /\.(\d+)/;

/** The local year, month, day, hour, minute, second of an RFC 3339 instant in an IANA zone. */
export function zoneParts(instant, zone) {
  const d = new Date(instant);
  if (Number.isNaN(d.getTime())) return null;
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-GB', {
      timeZone: zone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
    })
      .formatToParts(d)
      .filter((p) => p.type !== 'literal')
      .map((p) => [p.type, p.value]),
  );
  // Offsets are whole minutes: the fraction of a second is the same in every zone.
  const fraction = NANOS.exec(String(instant))?.[1] ?? '';
  return {
    year: parts.year,
    month: parts.month,
    day: parts.day,
    hour: parts.hour,
    minute: parts.minute,
    second: parts.second,
    subsecond: /[1-9]/.test(fraction),
  };
}

/** "2026-03" → "2026-04". */
export function nextMonth(month) {
  const [y, m] = month.split('-').map(Number);
  return m === 12 ? `${y + 1}-01` : `${y}-${String(m + 1).padStart(2, '0')}`;
}

/**
 * The report's partial month, or null when its last month is whole (or there is none).
 * @param {{ month: string }[]} byMonth the report's `by_month`
 * @param {string} asOf the request's `as_of` (RFC 3339)
 * @param {string} zone the policy's `time_zone`
 * @returns {null | { month: string, index: number, asOf: string, zone: string, day: number,
 *   hour: string, minute: string, midnight: boolean, instantOnly: boolean }}
 *   midnight: as_of is 00:00:00 local (days 1 … day − 1 are whole); instantOnly: as_of is the
 *   month's first instant (the month holds only what happens at as_of)
 */
export function partialMonth(byMonth, asOf, zone) {
  if (!byMonth?.length || !asOf || !zone) return null;
  const p = zoneParts(asOf, zone);
  if (!p) return null;
  const index = byMonth.length - 1;
  const month = byMonth[index].month;
  const midnight = p.hour === '00' && p.minute === '00' && p.second === '00' && !p.subsecond;
  // Whole: as_of is the start of the next local month.
  if (`${p.year}-${p.month}` === nextMonth(month) && p.day === '01' && midnight) return null;
  return {
    month,
    index,
    asOf,
    zone,
    day: Number(p.day),
    hour: p.hour,
    minute: p.minute,
    midnight,
    instantOnly: `${p.year}-${p.month}` === month && p.day === '01' && midnight,
  };
}
