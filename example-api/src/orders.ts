/**
 * The example's in-memory orders: a few seeded, new ones added by `POST /api/orders`, at most
 * {@link MAX_ORDERS} kept (the oldest are dropped) so no client can grow the process without bound.
 */

/** An order as the API returns it. */
export interface Order {
  id: string;
  item: string;
  quantity: number;
  /** `sub` of the token that created it. */
  createdBy: string;
  createdAt: string;
}

/** What a client sends to create an order. */
export interface NewOrder {
  item: string;
  quantity: number;
}

/** Most orders kept in memory. */
export const MAX_ORDERS = 100;

/** Checks a parsed JSON body; the problem text names the field and is safe to send back. */
export function parseNewOrder(body: unknown): { ok: true; order: NewOrder } | { ok: false; problem: string } {
  const example = 'send a JSON object like {"item": "widget", "quantity": 2} with Content-Type: application/json';
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return { ok: false, problem: `the body must be a JSON object: ${example}` };
  const { item, quantity } = body as Record<string, unknown>;
  if (typeof item !== 'string' || item.trim() === '' || item.length > 100) {
    return { ok: false, problem: `"item" must be a non-empty string of at most 100 characters: ${example}` };
  }
  if (typeof quantity !== 'number' || !Number.isInteger(quantity) || quantity < 1 || quantity > 1000) {
    return { ok: false, problem: `"quantity" must be an integer from 1 to 1000: ${example}` };
  }
  return { ok: true, order: { item: item.trim(), quantity } };
}

/** The orders, newest last. */
export class OrderStore {
  private readonly orders: Order[] = [
    { id: 'ord_1001', item: 'widget', quantity: 3, createdBy: 'seed', createdAt: '2026-01-05T09:30:00.000Z' },
    { id: 'ord_1002', item: 'gadget', quantity: 1, createdBy: 'seed', createdAt: '2026-01-06T14:10:00.000Z' },
  ];
  private nextId = 1003;

  list(): Order[] {
    return this.orders.map((order) => ({ ...order }));
  }

  add(order: NewOrder, createdBy: string): Order {
    const created: Order = { id: `ord_${this.nextId++}`, ...order, createdBy, createdAt: new Date().toISOString() };
    this.orders.push(created);
    if (this.orders.length > MAX_ORDERS) this.orders.splice(0, this.orders.length - MAX_ORDERS);
    return { ...created };
  }
}
