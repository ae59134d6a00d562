// The live events (`/api/v1/events`, server-sent events) read with fetch, so the API token can go in a header
// (EventSource cannot send one). Reconnects after a drop with `Last-Event-ID`, so nothing kept is missed.
import { apiBase, authHeaders, type LiveEvent, reportUnauthorized } from './client';

export type EventHandler = (event: LiveEvent) => void;

/** Parses SSE text into the `data:` payloads of complete messages; returns what is left over. */
export function parseSse(buffer: string, onMessage: (data: string, id: string | undefined) => void): string {
  const messages = buffer.split(/\r?\n\r?\n/);
  const rest = messages.pop() ?? '';
  for (const message of messages) {
    let id: string | undefined;
    const data: string[] = [];
    for (const line of message.split(/\r?\n/)) {
      if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
      else if (line.startsWith('id:')) id = line.slice(3).trim();
    }
    if (data.length) onMessage(data.join('\n'), id);
  }
  return rest;
}

/** Follows the live events (of one execution, or all); returns a function that stops. */
export function followEvents(onEvent: EventHandler, executionId?: string, onStatus?: (connected: boolean) => void): () => void {
  const controller = new AbortController();
  let lastId: string | undefined;
  const run = async () => {
    let delay = 500;
    while (!controller.signal.aborted) {
      try {
        const query = executionId ? `?execution_id=${encodeURIComponent(executionId)}` : '';
        const headers: Record<string, string> = { Accept: 'text/event-stream', ...authHeaders() };
        if (lastId) headers['Last-Event-ID'] = lastId;
        const response = await fetch(`${apiBase}/api/v1/events${query}`, { headers, signal: controller.signal });
        if (response.status === 401) reportUnauthorized();
        if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}`);
        onStatus?.(true);
        delay = 500;
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer = parseSse(buffer + value, (data, id) => {
            if (id) lastId = id;
            try {
              onEvent(JSON.parse(data) as LiveEvent);
            } catch {
              // a message that is not JSON is no event of ours
            }
          });
        }
      } catch {
        if (controller.signal.aborted) return;
      }
      onStatus?.(false);
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, 8000);
    }
  };
  void run();
  return () => controller.abort();
}
