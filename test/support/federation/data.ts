/** The fixtures behind the parity subgraphs; every value is fixed, so results repeat. */

export interface UserRow {
  id: string;
  name: string;
  username: string;
  memberSince: Date;
}

export interface ProductRow {
  upc: string;
  name: string;
  price: number;
  weight: number | null;
  category: 'BOOK' | 'FURNITURE' | 'GAME' | 'DISCONTINUED';
  releasedAt: Date | null;
  dimensions: { width: number; height: number; unit: string } | null;
}

export interface ReviewRow {
  id: string;
  body: string;
  rating: number;
  createdAt: Date;
  authorID: string;
  /** A product's UPC, or a media's id. */
  subject: string;
}

export const users: readonly UserRow[] = [
  { id: '1', name: 'Ada Lovelace', username: 'ada', memberSince: new Date('2019-05-01T10:00:00Z') },
  {
    id: '2',
    name: 'Linus Torvalds',
    username: 'linus',
    memberSince: new Date('2021-11-30T08:15:00Z'),
  },
];

export const seedProducts: readonly ProductRow[] = [
  {
    upc: '1',
    name: 'Table',
    price: 899,
    weight: 100,
    category: 'FURNITURE',
    releasedAt: new Date('2020-01-02T00:00:00Z'),
    dimensions: { width: 120, height: 75, unit: 'cm' },
  },
  {
    upc: '2',
    name: 'Couch',
    price: 1299,
    weight: 1000,
    category: 'FURNITURE',
    releasedAt: new Date('2018-06-15T00:00:00Z'),
    dimensions: { width: 200, height: 90, unit: 'cm' },
  },
  {
    upc: '3',
    name: 'Chess',
    price: 54,
    weight: 50,
    category: 'GAME',
    releasedAt: null,
    dimensions: null,
  },
  {
    upc: '4',
    name: 'Dune',
    price: 20,
    weight: null,
    category: 'BOOK',
    releasedAt: new Date('1965-08-01T00:00:00Z'),
    dimensions: { width: 13, height: 20, unit: 'cm' },
  },
  {
    upc: '5',
    name: 'Pager',
    price: 10,
    weight: 1,
    category: 'DISCONTINUED',
    releasedAt: null,
    dimensions: null,
  },
];

export const brands = [
  { name: 'Acme', country: 'US' },
  { name: 'Tablecraft', country: null },
] as const;

export const media = [
  { __typename: 'Book', id: 'b1', title: 'Dune', author: 'Frank Herbert' },
  { __typename: 'Movie', id: 'm1', title: 'Alien', director: 'Ridley Scott', minutes: 117 },
] as const;

export const seedReviews: readonly ReviewRow[] = [
  {
    id: 'r1',
    body: 'Sturdy.',
    rating: 5,
    createdAt: new Date('2022-01-01T12:00:00Z'),
    authorID: '1',
    subject: '1',
  },
  {
    id: 'r2',
    body: 'Wobbles.',
    rating: 2,
    createdAt: new Date('2022-02-01T12:00:00Z'),
    authorID: '2',
    subject: '1',
  },
  {
    id: 'r3',
    body: 'A classic.',
    rating: 5,
    createdAt: new Date('2022-03-01T12:00:00Z'),
    authorID: '1',
    subject: '4',
  },
  {
    id: 'r4',
    body: 'Better than the film.',
    rating: 4,
    createdAt: new Date('2022-04-01T12:00:00Z'),
    authorID: '2',
    subject: 'b1',
  },
];
