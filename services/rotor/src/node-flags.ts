// The node flags Rotor processes are launched with. One list, used by the `rotor cluster`
// supervisor for the roles it spawns and by the load test; the root package.json scripts
// (`pnpm start`, `pnpm cluster`, `pnpm rotor`), deploy/Dockerfile's ENTRYPOINT and the Helm chart
// spell the same flags out (tests compare them with this list).
//
// --max-semi-space-size=4 (MiB): V8 grows the young generation up to 2 × 16 MiB while a burst of
// connections keeps its objects alive and hands the memory back only after a long idle period, so a
// gateway that just accepted 15 000 connections holds ≈ 20 MB of young generation it no longer
// needs — as much again as the connections themselves. Capped at 4 MiB the per-connection RSS
// halves; loadtest/README.md ("Launch flags") has the measurements, fanout throughput included.
export const ROTOR_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=4'];
