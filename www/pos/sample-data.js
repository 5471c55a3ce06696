// Sample data for the POS page (and the tests that drive it).
// POLICY is SPEC §1's example policy, verbatim (tests/node/sample-data.test.mjs checks it).

export const POLICY = {
  "schema": 1,
  "id": "vn-fashion-2026",
  "currency": "VND",
  "time_zone": "Asia/Ho_Chi_Minh",
  "money_rounding": "half_up",
  "earning": {
    "spend": "100000", "points": 1,
    "rounding": "floor",
    "basis": "paid",
    "exclude_categories": ["gift_card"],
    "pending_days": 0,
    "max_points_per_order": null,
    "rules": [
      { "id": "shoes-x2", "when": { "categories": ["shoes"] }, "multiplier": "2" },
      { "id": "weekend", "when": { "days_of_week": ["sat", "sun"] }, "bonus_points": 10 }
    ]
  },
  "tiers": {
    "metric": "points",
    "window": { "rolling_months": 12 },
    "levels": [
      { "id": "member", "name": "Member", "threshold": "0" },
      { "id": "silver", "name": "Silver", "threshold": "500", "discount_percent": "5" },
      { "id": "gold", "name": "Gold", "threshold": "1500", "discount_percent": "10", "earn_multiplier": "1.5" }
    ],
    "discount_exclude_categories": ["gift_card"],
    "downgrade": { "review": "anniversary", "retain_months": 12, "max_steps": null }
  },
  "redemption": { "point_value": "1000", "min_points": 10, "step": 1, "max_share": "0.5", "max_points_per_order": null },
  "rewards": [ { "id": "tote-bag", "name": "Tote bag", "points": 300, "min_tier": "silver" } ],
  "expiry": { "kind": "end_of_period", "period": "year", "after": 1 },
  "expiry_notice_days": 30,
  "members": { "inactive_earns": false, "unassigned_card_earns": true },
  "refunds": { "clawback": "unlimited" }
};

// Member snapshots (SPEC §2): `points` is the available balance.
export const MEMBERS = [
  { id: 'm-001', status: 'active', tier: 'silver', points: 300 },
  { id: 'm-002', status: 'active', tier: 'gold', points: 2400 },
  { id: 'm-003', status: 'active', tier: 'member', points: 40 },
  { id: 'm-004', status: 'inactive', tier: 'member', points: 0 },
  { id: 'm-005', status: 'excluded', tier: 'silver', points: 120 },
  { id: 'card-7001', status: 'unassigned', points: 0 },
];

// SPEC §2's cart: with m-001 and redeem_points "max" it is the worked example
// (total 1315000, earned_points 32).
export const CART = {
  id: 'ord-1',
  at: '2026-03-07T10:00:00+07:00',
  store: 'hcm-01',
  channel: 'pos',
  lines: [
    { id: 'A', sku: 'TEE-01', category: 'apparel', quantity: 2, unit_price: '250000' },
    { id: 'B', sku: 'RUN-42', category: 'shoes', quantity: 1, unit_price: '1200000' },
  ],
};

/** SPEC §2's worked example request. */
export const WORKED_EXAMPLE = { member: MEMBERS[0], cart: CART, redeem_points: 'max' };

// What the cart editor offers when a line is added.
export const CATALOG = [
  { sku: 'TEE-01', category: 'apparel', unit_price: '250000', name: 'T-shirt' },
  { sku: 'RUN-42', category: 'shoes', unit_price: '1200000', name: 'Running shoes' },
  { sku: 'CAP-07', category: 'accessories', unit_price: '150000', name: 'Cap' },
  { sku: 'GC-500', category: 'gift_card', unit_price: '500000', name: 'Gift card 500k' },
  { sku: 'JKT-15', category: 'apparel', unit_price: '890000', name: 'Rain jacket' },
  { sku: 'TRL-88', category: 'shoes', unit_price: '1850000', name: 'Trail shoes' },
  { sku: 'SCK-03', category: 'accessories', unit_price: '60000', name: 'Socks (3 pairs)' },
  { sku: 'BAG-20', category: 'accessories', unit_price: '420000', name: 'Backpack 20 l' },
];

/** Catalogue items whose SKU, name or category contains `text` (case-insensitive). */
export function searchCatalog(text, catalog = CATALOG) {
  const q = String(text).trim().toLowerCase();
  if (!q) return [];
  return catalog.filter((i) => [i.sku, i.name, i.category].some((f) => f.toLowerCase().includes(q)));
}
