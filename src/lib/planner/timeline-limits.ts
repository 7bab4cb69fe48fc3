/** Accepted boot times per VM for the restart timeline, in seconds (the what-if page's field and the planner's check). */
export const BOOT_SECONDS = { min: 1, max: 3_600, assumed: 30 } as const;
