// Preloaded (--import) into Funnel processes when the bench runs with --profile: Nest re-raises SIGTERM
// after its shutdown hooks, and a process killed by a signal writes no --cpu-prof profile. SIGUSR2 ends
// the process with a normal exit instead, so the profile is written.
process.on('SIGUSR2', () => process.exit(0));
