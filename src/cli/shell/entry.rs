//! Gathering lines into one entry: a dot-command is one line; a query goes
//! on while [`segql::syntax::is_incomplete`] says so, so a query pasted over
//! several lines runs once. The same logic serves the terminal and a pipe.

/// What a finished entry is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Entry {
    /// A line starting with `.`, trimmed.
    Command(String),
    /// Query text, possibly over several lines, trimmed.
    Query(String),
}

/// The lines of the entry being typed.
#[derive(Default)]
pub struct Pending {
    text: String,
}

impl Pending {
    /// Whether a query has been started and waits for more lines (the
    /// prompt then changes).
    pub fn is_open(&self) -> bool {
        !self.text.is_empty()
    }

    /// Drops the lines gathered so far (Ctrl-C).
    pub fn clear(&mut self) {
        self.text.clear();
    }

    /// Adds one line; returns the entry when it is finished.
    pub fn push(&mut self, line: &str) -> Option<Entry> {
        if !self.is_open() {
            let trimmed = line.trim();
            if trimmed.is_empty() {
                return None;
            }
            if trimmed.starts_with('.') {
                return Some(Entry::Command(trimmed.to_string()));
            }
        }
        self.text.push_str(line);
        self.text.push('\n');
        if segql::syntax::is_incomplete(&self.text) {
            return None;
        }
        self.finish()
    }

    /// The entry at the end of the input, finished or not: an unfinished
    /// query is run so the parser says what is missing.
    pub fn finish(&mut self) -> Option<Entry> {
        let text = std::mem::take(&mut self.text);
        let text = text.trim();
        (!text.is_empty()).then(|| Entry::Query(text.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(lines: &[&str]) -> Vec<Entry> {
        let mut pending = Pending::default();
        let mut out: Vec<Entry> = lines.iter().filter_map(|l| pending.push(l)).collect();
        out.extend(pending.finish());
        out
    }

    #[test]
    fn a_query_over_several_lines_is_one_entry() {
        assert_eq!(
            entries(&[
                "contact where role = \"Employee\" and",
                "  has lead(",
                "    status = \"Open\")",
                "contact",
            ]),
            [
                Entry::Query(
                    "contact where role = \"Employee\" and\n  has lead(\n    status = \"Open\")"
                        .into()
                ),
                Entry::Query("contact".into()),
            ]
        );
    }

    #[test]
    fn dot_commands_are_single_lines_and_blank_lines_are_nothing() {
        assert_eq!(
            entries(&["", "  .format ids  ", "contact", ".quit"]),
            [
                Entry::Command(".format ids".into()),
                Entry::Query("contact".into()),
                Entry::Command(".quit".into()),
            ]
        );
    }

    #[test]
    fn an_unfinished_query_at_the_end_is_still_handed_over() {
        let mut pending = Pending::default();
        assert_eq!(pending.push("contact where has lead("), None);
        assert!(pending.is_open());
        assert_eq!(
            pending.finish(),
            Some(Entry::Query("contact where has lead(".into()))
        );
        assert!(!pending.is_open());
        pending.push("contact where (");
        pending.clear();
        assert_eq!(pending.finish(), None);
    }
}
