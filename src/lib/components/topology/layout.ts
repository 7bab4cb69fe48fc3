import { linkVertical, scaleLinear } from 'd3';
import type { HostOverview, PoolOverview, SrOverview, VmOverview } from '$lib/pool/overview';

export interface TopologyOptions {
	/** Minimum width of one host column, px. */
	columnWidth?: number;
	gap?: number;
	/** Height of the memory stack of the host with the most memory, px. */
	stackHeight?: number;
	headerHeight?: number;
	srHeight?: number;
	srGap?: number;
}

export interface VmBox {
	vm: VmOverview;
	x: number;
	y: number;
	width: number;
	height: number;
}

export interface HostBox {
	host: HostOverview;
	x: number;
	y: number;
	width: number;
	headerHeight: number;
	/** The memory stack: total memory drawn to scale, VMs stacked from the bottom. */
	stack: { x: number; y: number; width: number; height: number };
	/** Host overhead and control domain: used memory not accounted to listed VMs. */
	reservedHeight: number;
	vms: VmBox[];
}

export interface SrBox {
	sr: SrOverview;
	x: number;
	y: number;
	width: number;
	height: number;
}

export interface TopologyLayout {
	width: number;
	height: number;
	hosts: HostBox[];
	srs: SrBox[];
	/** SR → host links as SVG path data. */
	links: { sr: string; host: string; d: string }[];
}

/**
 * A configurable layout in the d3 way: options in a closure, a pure function of the pool out.
 * Hosts are columns whose height is their memory to one scale, VMs blocks stacked in them, and
 * SRs a row below, linked to the hosts that have them attached. Deterministic: same input,
 * same positions.
 */
export function topologyLayout(options: TopologyOptions = {}) {
	const columnWidth = options.columnWidth ?? 190;
	const gap = options.gap ?? 24;
	const stackHeight = options.stackHeight ?? 300;
	const headerHeight = options.headerHeight ?? 64;
	const srHeight = options.srHeight ?? 46;
	const srGap = options.srGap ?? 70;

	return (pool: PoolOverview): TopologyLayout => {
		const maxMemory = Math.max(1, ...pool.hosts.map((h) => h.memoryTotal));
		const y = scaleLinear().domain([0, maxMemory]).range([0, stackHeight]);
		const hostsWidth = pool.hosts.length * columnWidth + Math.max(0, pool.hosts.length - 1) * gap;

		const hosts: HostBox[] = pool.hosts.map((host, i) => {
			const x = i * (columnWidth + gap);
			const height = y(host.memoryTotal);
			const stackTop = headerHeight + (stackHeight - height);
			const stackBottom = headerHeight + stackHeight;
			const vmMemory = host.vms.reduce((sum, vm) => sum + vm.memory, 0);
			const reserved = Math.max(0, host.memoryTotal - host.memoryFree - vmMemory);
			// Reserved memory sits at the bottom of the stack, VMs above it, free space on top.
			let cursor = stackBottom - y(reserved);
			const vms: VmBox[] = host.vms.map((vm) => {
				const h = y(vm.memory);
				cursor -= h;
				return { vm, x: x + 8, y: cursor, width: columnWidth - 16, height: h };
			});
			return {
				host,
				x,
				y: 0,
				width: columnWidth,
				headerHeight,
				stack: { x: x + 8, y: stackTop, width: columnWidth - 16, height },
				reservedHeight: y(reserved),
				vms
			};
		});

		// An SR only one host sees sits under that host; shared ones form a row below, linked.
		const hostIndex = new Map(hosts.map((h) => [h.host.ref, h]));
		const stackBottom = headerHeight + stackHeight;
		const localTop = stackBottom + 18;
		const perHost = new Map<string, number>();
		const srs: SrBox[] = [];
		const sharedSrs: SrOverview[] = [];
		for (const sr of pool.srs) {
			const only = sr.hosts.length === 1 ? hostIndex.get(sr.hosts[0] ?? '') : undefined;
			if (!only || sr.shared) {
				sharedSrs.push(sr);
				continue;
			}
			const slot = perHost.get(only.host.ref) ?? 0;
			perHost.set(only.host.ref, slot + 1);
			srs.push({ sr, x: only.x + 8, y: localTop + slot * (srHeight + 8), width: only.width - 16, height: srHeight });
		}
		const localRows = Math.max(0, ...perHost.values());
		const srTop = localTop + localRows * (srHeight + 8) + srGap - 18;
		const srWidth = columnWidth;
		const srsWidth = sharedSrs.length * srWidth + Math.max(0, sharedSrs.length - 1) * gap;
		const srOffset = Math.max(0, (hostsWidth - srsWidth) / 2);
		sharedSrs.forEach((sr, i) => srs.push({ sr, x: srOffset + i * (srWidth + gap), y: srTop, width: srWidth, height: srHeight }));

		const link = linkVertical();
		const links = srs.flatMap((box) =>
			box.sr.hosts.flatMap((hostRef) => {
				const h = hostIndex.get(hostRef);
				if (!h) return [];
				const local = box.y < srTop;
				// Shared links leave from below the local SR row so they do not cross its boxes.
				const localBottom = localTop + localRows * (srHeight + 8) - 8;
				const from: [number, number] = local ? [box.x + box.width / 2, stackBottom + 4] : [h.x + h.width / 2, localRows > 0 ? localBottom : stackBottom + 4];
				const to: [number, number] = [box.x + box.width / 2, box.y];
				return [{ sr: box.sr.ref, host: hostRef, d: link({ source: from, target: to }) ?? '' }];
			})
		);

		return {
			width: Math.max(hostsWidth, srOffset + srsWidth),
			height: (sharedSrs.length > 0 ? srTop + srHeight : localTop + localRows * (srHeight + 8)) + 8,
			hosts,
			srs,
			links
		};
	};
}
