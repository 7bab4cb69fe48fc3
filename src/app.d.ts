// See https://svelte.dev/docs/kit/types#app.d.ts
import type { SessionView } from '$lib/server/sessions';

declare global {
	namespace App {
		interface Error {
			message: string;
			code?: string;
		}
		interface Locals {
			/** The signed-in user's Haven session, as the server sees it (never sent whole). */
			session: SessionView | null;
		}
	}
}

export {};
