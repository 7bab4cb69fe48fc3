import { requireApiSession } from '$lib/server/guard';
import { subscribeLive, type LiveMessage } from '$lib/server/live';
import type { RequestHandler } from './$types';

/** Server-sent events: the pool's overview, tasks and messages as they change (see live.ts). */
export const GET: RequestHandler = ({ locals, request }) => {
	const session = requireApiSession(locals);
	const encoder = new TextEncoder();
	let cleanup = () => {};

	const stream = new ReadableStream<Uint8Array>({
		start(controller) {
			const write = (text: string) => {
				try {
					controller.enqueue(encoder.encode(text));
				} catch {
					cleanup();
				}
			};
			const unsubscribe = subscribeLive(session, (message: LiveMessage, sse: string) => {
				write(sse);
				if (message.type === 'ended') {
					cleanup();
					try {
						controller.close();
					} catch {
						// already closed
					}
				}
			});
			// A comment every 15 s keeps proxies from closing an idle stream.
			const keepAlive = setInterval(() => write(': keep-alive\n\n'), 15_000);
			// Called from several places (end of session, client gone, stream cancelled): once is enough.
			let cleaned = false;
			cleanup = () => {
				if (cleaned) return;
				cleaned = true;
				clearInterval(keepAlive);
				unsubscribe();
			};
			request.signal.addEventListener('abort', () => {
				cleanup();
				try {
					controller.close();
				} catch {
					// already closed
				}
			});
		},
		cancel() {
			cleanup();
		}
	});

	return new Response(stream, {
		headers: {
			'content-type': 'text/event-stream',
			'cache-control': 'no-store',
			connection: 'keep-alive',
			'x-accel-buffering': 'no'
		}
	});
};
