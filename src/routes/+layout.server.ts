import type { LayoutServerLoad } from './$types';

export const load: LayoutServerLoad = ({ locals }) => {
	const s = locals.session;
	return {
		user: s ? { name: s.user, role: s.role, canConfigure: s.canConfigure, poolName: s.poolName } : null
	};
};
