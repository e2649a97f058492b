//! Where the shell's lines come from: a line editor with history across
//! sessions when standard input is a terminal, plain lines otherwise (a
//! pipe or a file: no prompts, no history, the same entries).

use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;

use rustyline::error::ReadlineError;
use rustyline::DefaultEditor;

use crate::cli::failure::{io_failure, Failure};

/// One read.
pub enum Read {
    Line(String),
    /// Ctrl-C: drop what is being typed.
    Interrupted,
    End,
}

pub enum Lines {
    Editor {
        editor: Box<DefaultEditor>,
        history: Option<PathBuf>,
    },
    Piped(std::io::StdinLock<'static>),
}

impl Lines {
    /// The editor on a terminal (with its history loaded), plain lines otherwise.
    pub fn open() -> Result<Self, Failure> {
        if !std::io::stdin().is_terminal() {
            return Ok(Lines::Piped(std::io::stdin().lock()));
        }
        let mut editor =
            DefaultEditor::new().map_err(|e| io_failure("cannot start the line editor", e))?;
        let history = history_path();
        if let Some(path) = &history {
            // No history yet is the normal first run.
            let _ = editor.load_history(path);
        }
        Ok(Lines::Editor {
            editor: Box::new(editor),
            history,
        })
    }

    pub fn read(&mut self, prompt: &str) -> Result<Read, Failure> {
        match self {
            Lines::Editor { editor, .. } => match editor.readline(prompt) {
                Ok(line) => Ok(Read::Line(line)),
                Err(ReadlineError::Interrupted) => Ok(Read::Interrupted),
                Err(ReadlineError::Eof) => Ok(Read::End),
                Err(e) => Err(io_failure("cannot read the prompt", e)),
            },
            Lines::Piped(input) => {
                let mut bytes = Vec::new();
                match input.read_until(b'\n', &mut bytes) {
                    Ok(0) => Ok(Read::End),
                    // Invalid UTF-8 becomes U+FFFD; the parser then points at it.
                    Ok(_) => Ok(Read::Line(
                        String::from_utf8_lossy(&bytes)
                            .trim_end_matches(['\n', '\r'])
                            .to_string(),
                    )),
                    Err(e) => Err(io_failure("cannot read standard input", e)),
                }
            }
        }
    }

    /// Adds a finished entry to the history (terminal only).
    pub fn remember(&mut self, entry: &str) {
        if let Lines::Editor { editor, .. } = self {
            let _ = editor.add_history_entry(entry);
        }
    }

    /// Saves the history for the next session.
    pub fn close(self) {
        if let Lines::Editor {
            mut editor,
            history: Some(path),
        } = self
        {
            if let Some(dir) = path.parent() {
                let _ = std::fs::create_dir_all(dir);
            }
            if let Err(e) = editor.save_history(&path) {
                eprintln!(
                    "warning: cannot save the history to {}: {e}",
                    path.display()
                );
            }
        }
    }
}

/// `$XDG_STATE_HOME/segql/history` when that is set (an absolute path, as
/// the XDG spec requires), else `~/.segql_history`.
fn history_path() -> Option<PathBuf> {
    let state = std::env::var_os("XDG_STATE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute());
    match state {
        Some(dir) => Some(dir.join("segql").join("history")),
        None => std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".segql_history")),
    }
}
