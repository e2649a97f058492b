//! The `segql` command line: argument parsing, reading inputs, rendering
//! results and errors. All query work is done by the library.

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
