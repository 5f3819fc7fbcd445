export interface User {
  readonly id: string;
  readonly name: string;
  readonly email: string;
}

/** The users the example knows, kept in memory. */
export class UserStore {
  readonly #byId: ReadonlyMap<string, User>;

  constructor(users: readonly User[]) {
    this.#byId = new Map(users.map((user) => [user.id, user]));
  }

  get(id: string): User | undefined {
    return this.#byId.get(id);
  }

  list(): readonly User[] {
    return [...this.#byId.values()];
  }
}
