//! The shell's dot-commands (`.help`, `.format ids`, ...): parsed here, on
//! their own, so a line starting with `.` is never read as a query and a
//! mistyped command gets a list and a suggestion.

use crate::cli::args::RowFormat;

/// One dot-command, parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    Help,
    /// `.schema` lists the entities; `.schema ENTITY` one entity's fields.
    Schema(Option<String>),
    /// `.format` alone shows the current settings.
    Format(Option<RowFormat>),
    /// `.columns a,b,c`; `.columns` alone goes back to the default columns.
    Columns(Option<Vec<String>>),
    /// `.limit N`; `.limit` alone goes back to a screenful.
    Limit(Option<usize>),
    Timing(bool),
    Quit,
}

/// The commands' names, for the error on an unknown one.
pub const NAMES: [&str; 8] = [
    ".help", ".schema", ".format", ".columns", ".limit", ".timing", ".quit", ".exit",
];

/// What `.help` prints.
pub const HELP: &str = "\
.help                        this list
.schema [ENTITY]             the entities, or the fields of one
.format table|ids|json|csv   how results are printed (alone: the current settings)
.columns a,b,c               the table's columns, in order (alone: the default ones)
.limit N                     show at most N records (alone: a screenful)
.timing on|off               print how long each query took
.quit, .exit                 leave (Ctrl-D too)
A query may span lines: it goes on while a ( or [ or a string is open, or
while a line ends with and/or. Ctrl-C drops the query being typed.";

/// Parses a line that starts with `.`; the error says what is wrong and what
/// is valid.
pub fn parse(line: &str) -> Result<Command, String> {
    let line = line.trim();
    let (name, rest) = line
        .split_once(char::is_whitespace)
        .map_or((line, ""), |(n, r)| (n, r.trim()));
    let lower = name.to_ascii_lowercase();
    let no_argument = |command: Command| {
        if rest.is_empty() {
            Ok(command)
        } else {
            Err(format!("{name} takes no argument"))
        }
    };
    match lower.as_str() {
        ".help" => no_argument(Command::Help),
        ".quit" | ".exit" => no_argument(Command::Quit),
        ".schema" => Ok(Command::Schema(
            (!rest.is_empty()).then(|| rest.to_string()),
        )),
        ".format" => match rest.to_ascii_lowercase().as_str() {
            "" => Ok(Command::Format(None)),
            "table" => Ok(Command::Format(Some(RowFormat::Table))),
            "ids" => Ok(Command::Format(Some(RowFormat::Ids))),
            "json" => Ok(Command::Format(Some(RowFormat::Json))),
            "csv" => Ok(Command::Format(Some(RowFormat::Csv))),
            other => Err(format!(
                "unknown format '{other}'; .format takes table, ids, json or csv"
            )),
        },
        ".columns" if rest.is_empty() => Ok(Command::Columns(None)),
        ".columns" => {
            let names: Vec<String> = rest.split(',').map(|n| n.trim().to_string()).collect();
            if names.iter().any(String::is_empty) {
                return Err(format!(
                    "an empty column name in '{rest}'; write .columns a,b,c"
                ));
            }
            Ok(Command::Columns(Some(names)))
        }
        ".limit" if rest.is_empty() => Ok(Command::Limit(None)),
        ".limit" => rest
            .parse::<usize>()
            .map(|n| Command::Limit(Some(n)))
            .map_err(|_| format!(".limit must be a whole number ≥ 0, not '{rest}'")),
        ".timing" => match rest.to_ascii_lowercase().as_str() {
            "on" => Ok(Command::Timing(true)),
            "off" => Ok(Command::Timing(false)),
            _ => Err(".timing takes on or off".to_string()),
        },
        _ => {
            let nearest = segql::error::suggest(&lower, NAMES)
                .map(|s| format!("; did you mean '{s}'?"))
                .unwrap_or_default();
            Err(format!(
                "unknown command '{name}'{nearest}\ncommands: {}",
                NAMES.join(", ")
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_parses() {
        assert_eq!(parse(".help"), Ok(Command::Help));
        assert_eq!(parse("  .QUIT "), Ok(Command::Quit));
        assert_eq!(parse(".exit"), Ok(Command::Quit));
        assert_eq!(parse(".schema"), Ok(Command::Schema(None)));
        assert_eq!(
            parse(".schema lead"),
            Ok(Command::Schema(Some("lead".into())))
        );
        assert_eq!(
            parse(".format ids"),
            Ok(Command::Format(Some(RowFormat::Ids)))
        );
        assert_eq!(parse(".format"), Ok(Command::Format(None)));
        assert_eq!(
            parse(".columns id, email"),
            Ok(Command::Columns(Some(vec!["id".into(), "email".into()])))
        );
        assert_eq!(parse(".columns"), Ok(Command::Columns(None)));
        assert_eq!(parse(".limit 5"), Ok(Command::Limit(Some(5))));
        assert_eq!(parse(".limit"), Ok(Command::Limit(None)));
        assert_eq!(parse(".timing off"), Ok(Command::Timing(false)));
    }

    #[test]
    fn bad_commands_say_what_is_valid() {
        let unknown = parse(".hlep").unwrap_err();
        assert!(unknown.contains("did you mean '.help'"), "{unknown}");
        assert!(unknown.contains(".columns"), "{unknown}");
        assert!(parse(".format xml")
            .unwrap_err()
            .contains("table, ids, json or csv"));
        assert!(parse(".limit -1").unwrap_err().contains("whole number ≥ 0"));
        assert!(parse(".timing maybe").unwrap_err().contains("on or off"));
        assert!(parse(".columns a,,b").unwrap_err().contains("empty column"));
        assert!(parse(".quit now").unwrap_err().contains("no argument"));
    }
}
