/**
 * The synthetic sample dataset: a small shop. Deterministic (seeded PRNG, fixed dates), so every
 * installation holds the same documents and tests can assert counts and aggregates. No real person's data:
 * e-mail addresses use the reserved example.com domain (RFC 2606).
 */
import type { Document } from 'mongodb';

export const SAMPLE_COUNTS = { customers: 2_000, products: 500, orders: 20_000 } as const;
export type SampleCollection = keyof typeof SAMPLE_COUNTS;

/** Indexes the tools and benchmarks rely on (covered queries, index checks). */
export const SAMPLE_INDEXES: Record<SampleCollection, Array<{ key: Record<string, 1 | -1>; name: string; unique?: boolean }>> = {
  customers: [
    { key: { email: 1 }, name: 'email_1', unique: true },
    { key: { country: 1 }, name: 'country_1' },
  ],
  products: [
    { key: { sku: 1 }, name: 'sku_1', unique: true },
    { key: { category: 1 }, name: 'category_1' },
  ],
  orders: [
    { key: { customerId: 1, orderedAt: -1 }, name: 'customerId_1_orderedAt_-1' },
    { key: { status: 1 }, name: 'status_1' },
  ],
};

// mulberry32: tiny, fast, and good enough for synthetic data (not for anything secret).
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FIRST = ['Ada', 'Alan', 'Grace', 'Linus', 'Margaret', 'Ken', 'Barbara', 'Dennis', 'Frances', 'Edsger', 'Radia', 'Tim'];
const LAST = ['Lovelace', 'Turing', 'Hopper', 'Torvalds', 'Hamilton', 'Thompson', 'Liskov', 'Ritchie', 'Allen', 'Dijkstra', 'Perlman', 'Berners'];
const PLACES = [
  ['DE', 'Berlin'],
  ['FR', 'Lyon'],
  ['NL', 'Utrecht'],
  ['ES', 'Valencia'],
  ['IT', 'Turin'],
  ['SE', 'Malmö'],
  ['PL', 'Kraków'],
  ['IE', 'Cork'],
] as const;
const CATEGORIES = ['books', 'electronics', 'garden', 'kitchen', 'toys', 'sports', 'office', 'music'] as const;
const STATUSES = ['pending', 'paid', 'shipped', 'delivered', 'delivered', 'delivered', 'cancelled', 'refunded'] as const;
const TIERS = ['standard', 'standard', 'standard', 'silver', 'gold'] as const;
const EPOCH = Date.UTC(2024, 0, 1);
const DAY = 86_400_000;

const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
const cents = (x: number) => Math.round(x * 100) / 100;

export function customers(): Document[] {
  const r = prng(1);
  return Array.from({ length: SAMPLE_COUNTS.customers }, (_, i) => {
    const [country, city] = pick(r, PLACES);
    const first = pick(r, FIRST),
      last = pick(r, LAST);
    return {
      _id: i + 1,
      name: `${first} ${last}`,
      email: `customer${i + 1}@example.com`,
      tier: pick(r, TIERS),
      country,
      address: { city, country, postalCode: String(10000 + Math.floor(r() * 89999)) },
      createdAt: new Date(EPOCH - Math.floor(r() * 730) * DAY),
    };
  });
}

export function products(): Document[] {
  const r = prng(2);
  return Array.from({ length: SAMPLE_COUNTS.products }, (_, i) => {
    const category = pick(r, CATEGORIES);
    return {
      _id: i + 1,
      sku: `SKU-${String(i + 1).padStart(5, '0')}`,
      name: `${category} item ${i + 1}`,
      category,
      price: cents(2 + r() * 248),
      stock: Math.floor(r() * 500),
      tags: [category, r() < 0.3 ? 'sale' : 'regular'],
    };
  });
}

export function orders(productList: Document[] = products()): Document[] {
  const r = prng(3);
  return Array.from({ length: SAMPLE_COUNTS.orders }, (_, i) => {
    const items = Array.from({ length: 1 + Math.floor(r() * 4) }, () => {
      const p = pick(r, productList);
      return { productId: p._id as number, sku: p.sku as string, qty: 1 + Math.floor(r() * 3), unitPrice: p.price as number };
    });
    const [country, city] = pick(r, PLACES);
    return {
      _id: i + 1,
      customerId: 1 + Math.floor(r() * SAMPLE_COUNTS.customers),
      orderedAt: new Date(EPOCH + Math.floor(r() * 730 * DAY)),
      status: pick(r, STATUSES),
      currency: 'EUR',
      items,
      total: cents(items.reduce((s, it) => s + it.qty * it.unitPrice, 0)),
      shipping: { country, city },
    };
  });
}

export function sampleDocuments(): Record<SampleCollection, Document[]> {
  const p = products();
  return { customers: customers(), products: p, orders: orders(p) };
}
