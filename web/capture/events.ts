/** One Server-Sent Event of `POST /v1/predict?stream=1`: quality, boxes, line, record or error. */
export interface StreamEvent {
  event: string;
  data: unknown;
}

/**
 * The events of a streamed answer as they arrive. EventSource only GETs, so the upload's own
 * response body is read and split on the blank lines that end each event.
 */
export async function* readEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<StreamEvent> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let event = 'message';
      let data = '';
      for (const line of block.split('\n')) {
        if (line.startsWith('event: ')) event = line.slice(7);
        else if (line.startsWith('data: ')) data += line.slice(6);
      }
      yield { event, data: data === '' ? null : JSON.parse(data) };
    }
  }
}
