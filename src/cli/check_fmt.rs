//! `segql check` and `segql fmt`: both take a query or a whole library.

use segql::syntax;

use super::args::QueryInput;
use super::failure::{print_warnings, Failure};
use super::inputs::{read_query, Workspace};

/// Parse and check; print nothing but errors, every one the checker finds
/// (a syntax error stops the parse, so it comes alone).
pub fn check(workspace: &mut Workspace, input: &QueryInput) -> Result<(), Failure> {
    let (name, text) = read_query(input)?;
    if looks_like_library(&text) {
        workspace.with_library_input(name, &text);
        let library = syntax::parse_library(&text).map_err(|e| workspace.fail(e))?;
        let (outcome, warnings) =
            segql::check::check_library_with_warnings(&library, &workspace.schema);
        if !workspace.quiet {
            print_warnings(&warnings, &workspace.sources);
        }
        return outcome.map_err(|e| workspace.fail_all(e));
    }
    workspace.with_query(name, &text);
    let options = segql::Options {
        schema: &workspace.schema,
        library: workspace.library.as_ref(),
        guards: &[],
        optimize: false,
    };
    let query = syntax::parse_query(&text).map_err(|e| workspace.fail(e))?;
    let (outcome, warnings) = segql::check::check_with_warnings(&query, &options);
    if !workspace.quiet {
        print_warnings(&warnings, &workspace.sources);
    }
    outcome.map(|_| ()).map_err(|e| workspace.fail_all(e))
}

/// Print the canonical formatting, comments kept. With the schema at hand,
/// names and choice labels take the schema's spelling; a query that does not
/// check is still formatted, as written.
pub fn fmt(workspace: &mut Workspace, input: &QueryInput) -> Result<(), Failure> {
    let (name, text) = read_query(input)?;
    let formatted = if looks_like_library(&text) {
        workspace.with_library_input(name, &text);
        let mut library = syntax::parse_library(&text).map_err(|e| workspace.fail(e))?;
        for definition in &mut library.segments {
            let _ = segql::check::canonicalize(&mut definition.query, &workspace.schema);
        }
        syntax::format_library_with_comments(&library, &text)
    } else {
        workspace.with_query(name, &text);
        let mut query = syntax::parse_query(&text).map_err(|e| workspace.fail(e))?;
        let _ = segql::check::canonicalize(&mut query, &workspace.schema);
        syntax::format_query_with_comments(&query, &text)
    };
    print!("{formatted}");
    if !formatted.ends_with('\n') {
        println!();
    }
    Ok(())
}

/// A library starts with the keyword `segment` (after comments and blanks).
fn looks_like_library(text: &str) -> bool {
    let first_code = text
        .lines()
        .map(|line| line.split('#').next().unwrap_or("").trim())
        .find(|line| !line.is_empty())
        .unwrap_or("");
    let word: String = first_code
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    word.eq_ignore_ascii_case("segment")
}

#[cfg(test)]
mod tests {
    use super::looks_like_library;

    #[test]
    fn recognises_libraries_by_their_first_keyword() {
        assert!(looks_like_library("# lib\n\nSEGMENT a = contact"));
        assert!(!looks_like_library("contact where true"));
        assert!(!looks_like_library("segments_x"));
    }
}
