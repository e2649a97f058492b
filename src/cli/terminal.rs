//! The size of the terminal standard output goes to, for tables that fit.
//!
//! `COLUMNS`, when set to a number, wins (as for `ls` and friends): a user can
//! ask for a width, and tests get the same output on every machine. Without
//! it, the width is the terminal's when standard output is one, and
//! unlimited when it is a file or pipe (nothing is cut on the way to a tool).

/// Rows a table shows by default when standard output is not a terminal.
pub const DEFAULT_ROWS: usize = 20;

/// Lines a table needs besides its rows: the count, the header, its rule,
/// the "more" line, and the prompt or next command line.
const TABLE_CHROME: usize = 9;

/// The width a table must fit in, if any.
pub fn width() -> Option<usize> {
    let from_env = std::env::var("COLUMNS")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|&w| w > 0);
    // Of standard output itself: a table piped on is not cut to stderr's width.
    from_env.or_else(|| {
        terminal_size::terminal_size_of(std::io::stdout())
            .map(|(terminal_size::Width(w), _)| usize::from(w))
    })
}

/// How many rows a table shows when no limit is given: a screenful on a
/// terminal (at least a few), [`DEFAULT_ROWS`] otherwise.
pub fn screenful() -> usize {
    match terminal_size::terminal_size_of(std::io::stdout()) {
        Some((_, terminal_size::Height(h))) => usize::from(h).saturating_sub(TABLE_CHROME).max(5),
        None => DEFAULT_ROWS,
    }
}
