//! The `segql` command line: argument parsing, reading inputs, rendering
//! results and errors. All query work is done by the library.

// The library's `Error` carries spans, names and suggestions by value; it is
// returned once per command, so its size does not matter here.
#![allow(clippy::result_large_err)]

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
