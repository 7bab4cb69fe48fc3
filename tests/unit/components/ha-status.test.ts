import { describe, expect, it } from 'vitest';
import { haStatus } from '../../../src/lib/components/ha/status';
import { poolOverview } from '../../../src/lib/pool/overview';
import { ScenarioBuilder } from '../../../src/lib/xapi/sim/scenario-builder';
import { smallScenario } from '../../../src/lib/xapi/sim/scenarios/small';

function haPool(opts: { breakStatefileOn?: number; deafHost?: number; failHost?: number } = {}) {
	const b = new ScenarioBuilder(7);
	b.pool('p');
	const hosts = [0, 1, 2].map((i) => b.host({ name: `h${i}`, memoryGiB: 32 }));
	const sr = b.sr({ name: 'iscsi', type: 'lvmoiscsi', shared: true, hosts: hosts.map((host) => ({ host })), sizeGiB: 100 });
	b.vm({ name: 'p1', memoryGiB: 2, host: hosts[0] ?? null, priority: 'restart' });
	b.vm({ name: 'p2', memoryGiB: 2, host: hosts[1] ?? null, priority: 'restart', order: 1 });
	b.vm({ name: 'be', memoryGiB: 2, host: hosts[1] ?? null, priority: 'best-effort' });
	b.vm({ name: 'none', memoryGiB: 2, host: hosts[2] ?? null });
	b.enableHa(sr, { hostFailuresToTolerate: 1, timeoutSeconds: 30 });
	const s = b.finish();
	const hostRecord = (i: number | undefined) => (i === undefined ? undefined : s.host[hosts[i] as string]);
	const broken = hostRecord(opts.breakStatefileOn);
	if (broken) broken.ha_statefiles = [];
	const deaf = hostRecord(opts.deafHost);
	if (deaf) deaf.ha_network_peers = deaf.ha_network_peers.slice(0, 1);
	const failed = hostRecord(opts.failHost);
	const metrics = failed ? s.host_metrics[failed.metrics] : undefined;
	if (metrics) metrics.live = false;
	return s;
}

describe('haStatus', () => {
	it('reports HA off on the small pool: no heartbeat SR, health off, priorities counted', () => {
		const st = haStatus(poolOverview(smallScenario().snapshot));
		expect(st.enabled).toBe(false);
		expect(st.heartbeatSrs).toEqual([]);
		expect(st.hosts.map((h) => [h.statefile, h.heartbeat])).toEqual([
			['off', 'off'],
			['off', 'off'],
			['off', 'off']
		]);
		const c = st.counts;
		expect(c.protected + c.bestEffort + c.unprotected).toBeGreaterThan(0);
	});

	it('reads the heartbeat SR, the timeout and healthy hosts when HA is on', () => {
		const st = haStatus(poolOverview(haPool()));
		expect(st.enabled).toBe(true);
		expect(st.timeoutSeconds).toBe(30);
		expect(st.heartbeatSrs.map((s) => s.name)).toEqual(['iscsi']);
		expect(st.configured).toBe(1);
		expect(st.hosts.every((h) => h.statefile === 'ok' && h.heartbeat === 'ok')).toBe(true);
		expect(st.hosts.map((h) => `${h.peersSeen}/${h.peersExpected}`)).toEqual(['2/2', '2/2', '2/2']);
		expect(st.counts).toEqual({ protected: 2, protectedRunning: 2, bestEffort: 1, unprotected: 1 });
	});

	it('flags a host that lost the statefile, one that hears too few peers, and a failed host', () => {
		expect(haStatus(poolOverview(haPool({ breakStatefileOn: 1 }))).hosts.map((h) => h.statefile)).toEqual(['ok', 'lost', 'ok']);
		expect(haStatus(poolOverview(haPool({ deafHost: 2 }))).hosts.map((h) => h.heartbeat)).toEqual(['ok', 'ok', 'degraded']);
		const st = haStatus(poolOverview(haPool({ failHost: 2 })));
		const failed = st.hosts.find((h) => h.name === 'h2');
		expect(failed).toMatchObject({ state: 'failed', statefile: 'lost', heartbeat: 'lost' });
		// The survivors expect only each other.
		expect(st.hosts.filter((h) => h.state === 'live').every((h) => h.peersExpected === 1 && h.heartbeat === 'ok')).toBe(true);
	});
});
