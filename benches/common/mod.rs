//! What the bench binaries share: whether `cargo bench` is running them, and
//! the data sizes that follow from it.
//!
//! `cargo bench` passes `--bench` to every bench binary; `cargo test --benches`
//! (and `--all-targets`) runs the same binaries without it. Run as a test, a
//! bench does one tiny pass that still checks its results, builds no large
//! database and times nothing; criterion benches get the same from criterion,
//! which runs each routine once in that mode, provided their own setup is
//! tiny too. That setup size is this module's [`size`].

/// True under `cargo bench`; false under `cargo test`.
pub fn benchmarking() -> bool {
    std::env::args().any(|arg| arg == "--bench")
}

/// A data size: under `cargo bench`, the number in the environment variable
/// `var` (`_` separators allowed), else `bench_default`; under `cargo test`,
/// always `test_size`, whatever the environment says, so that no variable
/// left set for a measurement makes a test run build a large database.
#[allow(dead_code)] // Benches with fixed sizes use only `benchmarking`.
pub fn size(var: &str, bench_default: usize, test_size: usize) -> usize {
    if !benchmarking() {
        return test_size;
    }
    std::env::var(var)
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(bench_default)
}
