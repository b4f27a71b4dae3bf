// One event fanned out to many sockets: each distinct frame is encoded once, as bytes, and the
// same Buffer is handed to every socket whose frame it is (ws never changes a server frame's
// data: no masking, no compression here). Per socket that leaves no JSON, no string building,
// no UTF-8 conversion; only the kernel's write.
//
// A frame is named by two things, and both must be the whole of what goes into it:
//   - the payload object: the feed hands one object to the subscribers who see the same columns
//     of the same row (each view of the row is its own object), the hub one object per message;
//     a new event is always a new object;
//   - a key string holding every per-socket part of the frame (protocol version, join_ref, topic,
//     binding id, event name).
// Different masks are different payload objects, so they never share an entry. Entries live as
// long as the payload object (a WeakMap): the fan-out drops it, the frames go with it.
export class SharedFrames<P extends object> {
  readonly #frames = new WeakMap<P, Map<string, Buffer>>();

  /** The frame `key` names for `payload`: built on first use, the same bytes afterwards. */
  get<A>(payload: P, key: string, build: (payload: P, arg: A) => string | Buffer, arg: A): Buffer {
    let frames = this.#frames.get(payload);
    if (frames === undefined) this.#frames.set(payload, (frames = new Map()));
    let frame = frames.get(key);
    if (frame === undefined) {
      const built = build(payload, arg);
      frames.set(key, (frame = typeof built === 'string' ? Buffer.from(built, 'utf8') : built));
    }
    return frame;
  }
}
