//! `segql check` and `segql fmt`: both take a query, a whole library or a
//! scoring model file (told apart by their first word: `segment`, `model`).

use std::path::Path;

use segql::syntax;

use super::args::QueryInput;
use super::failure::{print_warnings, Failure};
use super::inputs::{read_file, read_query, Workspace};

/// Parse and check; print nothing but errors, every one the checker finds
/// (a syntax error stops the parse, so it comes alone).
pub fn check(workspace: &mut Workspace, input: &QueryInput) -> Result<(), Failure> {
    let (name, text) = read_query(input)?;
    if looks_like_models(&text) {
        return check_models(workspace, name, &text);
    }
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
    let formatted = if looks_like_models(&text) {
        workspace.with_models_input(name, &text);
        let mut models = syntax::parse_models(&text).map_err(|e| workspace.fail(e))?;
        segql::scoring::canonicalize_models(&mut models, &workspace.schema);
        syntax::format_models_with_comments(&models, &text)
    } else if looks_like_library(&text) {
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

/// `check --models FILE`: parse and check a scoring model file.
pub fn check_models_file(workspace: &mut Workspace, path: &Path) -> Result<(), Failure> {
    let text = read_file(path)?;
    check_models(workspace, path.display().to_string(), &text)
}

/// Parse and check a scoring model file (`check --models FILE`, or a model
/// file given as the query): nothing but errors, every one found.
fn check_models(workspace: &mut Workspace, name: String, text: &str) -> Result<(), Failure> {
    workspace.with_models_input(name, text);
    let models = syntax::parse_models(text).map_err(|e| workspace.fail(e))?;
    let (outcome, warnings) =
        segql::scoring::check_models_with_warnings(&models, &workspace.schema);
    if !workspace.quiet {
        print_warnings(&warnings, &workspace.sources);
    }
    outcome.map(|_| ()).map_err(|e| workspace.fail_all(e))
}

/// A library starts with the keyword `segment` (after comments and blanks).
fn looks_like_library(text: &str) -> bool {
    first_word(text).eq_ignore_ascii_case("segment")
}

/// A scoring model file starts with the keyword `model` and a name; a
/// schema with an entity called `model` still has queries `model [where ...]`.
fn looks_like_models(text: &str) -> bool {
    let mut words = code_words(text);
    words
        .next()
        .is_some_and(|w| w.eq_ignore_ascii_case("model"))
        && words
            .next()
            .is_some_and(|w| !w.eq_ignore_ascii_case("where"))
}

/// The words of the text outside comments, split at anything but a name
/// character (a rough look, enough to tell the kinds of input apart).
fn code_words(text: &str) -> impl Iterator<Item = &str> {
    text.lines()
        .map(|line| line.split('#').next().unwrap_or(""))
        .flat_map(|line| line.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')))
        .filter(|word| !word.is_empty())
}

/// The first word of the text, after comments and blanks.
fn first_word(text: &str) -> String {
    let first_code = text
        .lines()
        .map(|line| line.split('#').next().unwrap_or("").trim())
        .find(|line| !line.is_empty())
        .unwrap_or("");
    first_code
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{looks_like_library, looks_like_models};

    #[test]
    fn recognises_libraries_by_their_first_keyword() {
        assert!(looks_like_library("# lib\n\nSEGMENT a = contact"));
        assert!(!looks_like_library("contact where true"));
        assert!(!looks_like_library("segments_x"));
        assert!(looks_like_models("# scoring\nModel m on lead {}"));
        // A query on an entity called `model` is still a query.
        assert!(!looks_like_models("model where true"));
        assert!(!looks_like_models("MODEL"));
        assert!(!looks_like_models("models"));
    }
}
