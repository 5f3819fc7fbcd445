/** A chat message as stored; `createdAt` is serialized by the `DateTime` scalar. */
export interface Message {
  readonly id: string;
  readonly roomID: string;
  readonly text: string;
  readonly userId: string;
  readonly createdAt: Date;
}

/** What a caller supplies to add a message; the store assigns the id. */
export type NewMessage = Omit<Message, 'id'>;

/** Messages kept in memory, in insertion order; ids are increasing integers as strings. */
export class MessageStore {
  readonly #byId = new Map<string, Message>();
  readonly #byRoom = new Map<string, Message[]>();
  #lastId = 0;

  constructor(seed: readonly NewMessage[] = []) {
    for (const message of seed) this.add(message);
  }

  add(input: NewMessage): Message {
    this.#lastId += 1;
    const message: Message = { ...input, id: String(this.#lastId) };
    this.#byId.set(message.id, message);
    const room = this.#byRoom.get(message.roomID);
    if (room) room.push(message);
    else this.#byRoom.set(message.roomID, [message]);
    return message;
  }

  get(id: string): Message | undefined {
    return this.#byId.get(id);
  }

  /** The room's messages, oldest first; empty for a room nobody has written to. */
  list(roomID: string): readonly Message[] {
    return this.#byRoom.get(roomID) ?? [];
  }
}
