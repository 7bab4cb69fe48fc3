/**
 * The plumbing classes every client leans on: session.get_record, event.from / event.inject,
 * task.* and message.* beyond the generated readers.
 */
import { XapiCode } from '../../codes';
import { XapiError } from '../../errors';
import { float, ref, str, stringList } from '../args';
import { eventFrom, eventInject } from '../events';
import type { SimulatedPool } from '../pool';

/** xapi bounds a single event.from wait; clients loop. */
const MAX_EVENT_WAIT_S = 3600;

export function registerPlumbing(pool: SimulatedPool): void {
	pool.define('session.get_record', {
		params: ['self'],
		minRole: 'read-only',
		run: (ctx, [self]) => {
			// A session may read its own record only; others' refs are not handles it owns.
			if (self !== ctx.session.ref) throw new XapiError(XapiCode.HANDLE_INVALID, ['session', String(self)]);
			return pool.sessionRecord(ctx.session);
		}
	});

	pool.define('event.from', {
		params: ['classes', 'token', 'timeout'],
		minRole: 'read-only',
		run: (ctx, [classes, token, timeout]) => {
			const seconds = float(timeout, 'timeout');
			const session = ctx.session.ref;
			return eventFrom(pool.db, stringList(classes, 'classes'), str(token, 'token'), {
				timeoutMs: Math.min(Math.max(0, seconds), MAX_EVENT_WAIT_S) * 1000,
				now: () => pool.clock.now(),
				stillValid: () => !pool.stopped && pool.sessions.has(session),
				sessionRef: session
			});
		}
	});

	pool.define('event.inject', {
		params: ['class', 'ref'],
		minRole: 'read-only',
		run: (_ctx, [cls, r]) => eventInject(pool.db, str(cls, 'class'), str(r, 'ref'))
	});

	pool.define('task.cancel', {
		params: ['task'],
		minRole: 'read-only',
		run: (_ctx, [task]) => {
			pool.tasks.cancel(ref(pool.db, 'task', task, 'task')[0]);
			return '';
		}
	});
	pool.define('task.destroy', {
		params: ['self'],
		minRole: 'read-only',
		run: (_ctx, [self]) => {
			pool.tasks.destroy(ref(pool.db, 'task', self, 'self')[0]);
			return '';
		}
	});

	pool.define('message.get_since', {
		params: ['since'],
		minRole: 'read-only',
		run: (_ctx, [since]) => {
			const after = str(since, 'since');
			return Object.fromEntries(Object.entries(pool.snapshot.message).filter(([, m]) => m.timestamp > after));
		}
	});
	pool.define('message.destroy', {
		params: ['self'],
		minRole: 'pool-operator',
		run: (_ctx, [self]) => {
			pool.db.remove('message', ref(pool.db, 'message', self, 'self')[0]);
			return '';
		}
	});
}
