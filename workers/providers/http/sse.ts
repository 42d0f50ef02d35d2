/** One server-sent event: its `event` name (default "message") and its `data` lines joined by \n. */
export interface ServerSentEvent {
  event: string;
  data: string;
}

/**
 * Parses a byte stream of server-sent events as the WHATWG spec reads them: lines end in \n,
 * \r\n or \r (even when \r and \n arrive in different chunks), `:` lines are comments
 * (keep-alives), `data:` lines accumulate, a blank line dispatches. Bytes are decoded as a stream,
 * so a multi-byte character split across chunks is kept whole.
 */
export async function* parseServerSentEvents(
  chunks: AsyncIterable<Uint8Array | string>,
): AsyncGenerator<ServerSentEvent> {
  const decoder = new TextDecoder("utf-8");
  let buffer = "";
  let event = "";
  let data: string[] = [];
  let skipLeadingNewline = false;

  const lines = function* (text: string, final: boolean): Generator<string> {
    buffer += text;
    let start = 0;
    for (let index = 0; index < buffer.length; index++) {
      const char = buffer[index];
      if (skipLeadingNewline) {
        skipLeadingNewline = false;
        if (char === "\n" && index === start) {
          start = index + 1;
          continue;
        }
      }
      if (char === "\n" || char === "\r") {
        yield buffer.slice(start, index);
        if (char === "\r") {
          if (index + 1 < buffer.length) {
            if (buffer[index + 1] === "\n") index++;
          } else {
            skipLeadingNewline = true; // a \n may open the next chunk
          }
        }
        start = index + 1;
      }
    }
    buffer = buffer.slice(start);
    if (final && buffer !== "") {
      yield buffer;
      buffer = "";
    }
  };

  function* dispatchLine(line: string): Generator<ServerSentEvent> {
    if (line === "") {
      if (data.length > 0) yield { event: event || "message", data: data.join("\n") };
      event = "";
      data = [];
      return;
    }
    if (line.startsWith(":")) return;
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "data") data.push(value);
    else if (field === "event") event = value;
  }

  for await (const chunk of chunks) {
    const text = typeof chunk === "string" ? chunk : decoder.decode(chunk, { stream: true });
    for (const line of lines(text, false)) yield* dispatchLine(line);
  }
  for (const line of lines(decoder.decode(), true)) yield* dispatchLine(line);
  // A stream that ends without a final blank line still delivers its last event.
  yield* dispatchLine("");
}
