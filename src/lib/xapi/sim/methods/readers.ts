/**
 * The read side of every class, as xapi generates it: get_all_records, get_all, get_record,
 * get_by_uuid, get_by_name_label and one getter per field. All are read-only (any role).
 */
import { XapiCode } from '../../codes';
import { XapiError } from '../../errors';
import { XAPI_CLASSES, type Ref, type XapiClassName } from '../../records';
import { ref, str } from '../args';
import type { SimulatedPool } from '../pool';
import { CLASS_FIELDS } from '../schema';

function table(pool: SimulatedPool, cls: XapiClassName): Record<Ref, object> {
	return pool.snapshot[cls] as Record<Ref, object>;
}

export function registerReaders(pool: SimulatedPool): void {
	for (const cls of XAPI_CLASSES) {
		const db = pool.db;
		pool.define(`${cls}.get_all_records`, { params: [], minRole: 'read-only', run: () => structuredClone(table(pool, cls)) });
		pool.define(`${cls}.get_all`, { params: [], minRole: 'read-only', run: () => Object.keys(table(pool, cls)) });
		pool.define(`${cls}.get_record`, {
			params: ['self'],
			minRole: 'read-only',
			run: (_ctx, [self]) => structuredClone(ref(db, cls, self, 'self')[1])
		});
		pool.define(`${cls}.get_by_uuid`, {
			params: ['uuid'],
			minRole: 'read-only',
			run: (_ctx, [uuid]) => {
				const wanted = str(uuid, 'uuid');
				for (const [r, record] of Object.entries(table(pool, cls))) if ((record as { uuid: string }).uuid === wanted) return r;
				throw new XapiError(XapiCode.UUID_INVALID, [cls, wanted]);
			}
		});
		const fields: readonly string[] = CLASS_FIELDS[cls];
		if (fields.includes('name_label')) {
			pool.define(`${cls}.get_by_name_label`, {
				params: ['label'],
				minRole: 'read-only',
				run: (_ctx, [label]) => {
					const wanted = str(label, 'label');
					return Object.entries(table(pool, cls))
						.filter(([, record]) => (record as { name_label: string }).name_label === wanted)
						.map(([r]) => r);
				}
			});
		}
		for (const field of fields) {
			pool.define(`${cls}.get_${field}`, {
				params: ['self'],
				minRole: 'read-only',
				run: (_ctx, [self]) => structuredClone((ref(db, cls, self, 'self')[1] as unknown as Record<string, unknown>)[field])
			});
		}
	}
}
