//! Regression fixtures: cases on which the back ends once disagreed (or could
//! plausibly disagree), each kept as a named pair of files in
//! `tests/regressions/`:
//!
//! - `NAME.segql`: the query. Lines starting with `#!` are directives (the
//!   language reads every `#` line as a comment):
//!   `#! guard: NAME` checks with that guard, `#! library: segment ...` adds
//!   one segment definition, `#! now: 2024-06-15T12:00:00Z` sets the
//!   reference time (the default is the differential tests' one), and
//!   `#! expect: ID ID ...` gives the ids the query must return (written
//!   by hand from SPEC §2.3; `#! expect:` alone means none), and
//!   `#! known-bug: WHAT` marks a bug not fixed yet: the fixture must still
//!   fail, and once it passes the test says to remove the line (and the
//!   matching entry of `tests/it/differential/known_bugs.rs`).
//! - `NAME.sql`: the data, as SQL `INSERT`s into the default layout.
//!
//! Every fixture runs through the same checks as the differential tests
//! (all engines agree, plain and optimized; `p` and `not p` partition the
//! records), on PostgreSQL as well when a server is available.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{engines, pools, tlp};
use crate::support::pg::TestPg;

/// A fixture's directives and query text.
struct Fixture {
    name: String,
    query: String,
    guards: Vec<String>,
    library: String,
    now: DateTime<Utc>,
    expect: Option<Vec<Uuid>>,
    known_bug: Option<String>,
    data: String,
}

fn read_fixture(path: &Path) -> Result<Fixture, String> {
    let name = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default()
        .to_string();
    let query = std::fs::read_to_string(path).map_err(|e| format!("{name}: {e}"))?;
    let data = std::fs::read_to_string(path.with_extension("sql"))
        .map_err(|e| format!("{name}: the data file {name}.sql: {e}"))?;
    let mut fixture = Fixture {
        name: name.clone(),
        query: query.clone(),
        guards: Vec::new(),
        library: String::new(),
        now: pools::now(),
        expect: None,
        known_bug: None,
        data,
    };
    for line in query.lines() {
        let Some(directive) = line.strip_prefix("#!") else {
            continue;
        };
        let (key, value) = directive
            .split_once(':')
            .ok_or_else(|| format!("{name}: a directive needs `key: value`: {line}"))?;
        let value = value.trim();
        match key.trim() {
            "guard" => fixture.guards.push(value.to_string()),
            "library" => {
                fixture.library.push_str(value);
                fixture.library.push('\n');
            }
            "now" => {
                fixture.now = DateTime::parse_from_rfc3339(value)
                    .map_err(|e| format!("{name}: now: {e}"))?
                    .with_timezone(&Utc)
            }
            "expect" => {
                let ids = value
                    .split_whitespace()
                    .map(Uuid::parse_str)
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| format!("{name}: expect: {e}"))?;
                fixture.expect = Some(ids);
            }
            "known-bug" => fixture.known_bug = Some(value.to_string()),
            other => return Err(format!("{name}: unknown directive {other}")),
        }
    }
    Ok(fixture)
}

fn run_fixture(fixture: &Fixture, pg: Option<&TestPg>) -> Result<(), String> {
    let schema = segql::schema::crm_schema();
    let client = pg.map(|pg| pg.fresh_database("regression_data"));
    let env = engines::Loaded::new(
        &schema,
        fixture.now,
        &|conn| {
            conn.execute_batch(&fixture.data)
                .map_err(|e| format!("the data: {e}"))
        },
        client,
    )?;
    let library = if fixture.library.is_empty() {
        None
    } else {
        Some(engines::library(&schema, &fixture.library)?)
    };
    let ids = tlp::check_text(&env, library.as_ref(), &fixture.query, &fixture.guards)?;
    if let Some(expect) = &fixture.expect {
        let mut expect = expect.clone();
        expect.sort();
        if ids != expect {
            return Err(format!(
                "all engines agree on {}, but the expected answer is {}",
                engines::show(&Ok(ids)),
                engines::show(&Ok(expect))
            ));
        }
    }
    Ok(())
}

fn fixtures() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/regressions");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "segql"))
                .collect()
        })
        .unwrap_or_default();
    paths.sort();
    paths
}

#[test]
fn regression_fixtures_hold_on_every_engine() {
    let paths = fixtures();
    assert!(!paths.is_empty(), "no fixtures found in tests/regressions");
    let pg = TestPg::start();
    let mut failures = Vec::new();
    for path in &paths {
        let fixture = match read_fixture(path) {
            Ok(fixture) => fixture,
            Err(e) => {
                failures.push(e);
                continue;
            }
        };
        // PostgreSQL cannot store U+0000 (the data writes it `char(0)`).
        let nul = fixture.query.contains("\\u{0}") || fixture.data.contains("char(0)");
        let result = run_fixture(&fixture, pg.as_ref().filter(|_| !nul));
        match (&fixture.known_bug, result) {
            (None, Ok(())) => {}
            (None, Err(e)) => failures.push(format!("{}: {e}", fixture.name)),
            (Some(bug), Err(e)) => {
                println!("{}: still fails (known bug: {bug}):\n{e}", fixture.name)
            }
            // Some known bugs show only on PostgreSQL; without a server a
            // pass proves nothing.
            (Some(_), Ok(())) if pg.is_none() => {}
            (Some(bug), Ok(())) => failures.push(format!(
                "{}: passes now, so the known bug is fixed ({bug}); remove the \
                 fixture's `#! known-bug` line and the matching entry of \
                 tests/it/differential/known_bugs.rs",
                fixture.name
            )),
        }
    }
    println!("{} regression fixtures checked", paths.len());
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
