//! The `segql` command line: argument parsing, reading inputs, rendering
//! results and errors. All query work is done by the library.

// The library's `Error` carries spans, names and suggestions by value; it is
// returned once per command, so its size does not matter here.
#![allow(clippy::result_large_err)]

mod cli;

fn main() -> std::process::ExitCode {
    restore_default_sigpipe();
    cli::main()
}

/// Rust ignores SIGPIPE, so `segql run ... | head` would panic on the first
/// write after `head` exits. A command-line filter should just stop, as other
/// Unix tools do.
fn restore_default_sigpipe() {
    #[cfg(unix)]
    // SAFETY: called first thing in main, before any thread exists; setting a
    // signal's disposition to its default has no other effect.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
