//! Differential tests: SQLite, PostgreSQL and the in-memory evaluator, each on
//! the plan as checked and as optimized, must select the same ids for every
//! well-typed query on every data set (SPEC §1: "Both back ends must return
//! exactly the same records"), and every filter `p` and its negation must
//! split the records exactly (see `tlp`).
//!
//! Each run draws data sets and, for each, a batch of queries over it (the
//! data set is loaded once per batch). The first failing query is shrunk —
//! query first, then data, then the segment library — and reported with the
//! minimal query, the data as SQL `INSERT`s and every engine's ids; the same
//! case is written as a fixture under `CARGO_TARGET_TMPDIR` ready to move to
//! `tests/regressions/`.
//!
//! Environment:
//! - `SEGQL_DIFF_CASES`: data sets in the SQLite/memory run (default 200, at
//!   50 queries each); the PostgreSQL run uses a tenth of it (at least 1).
//! - `SEGQL_DIFF_SEED`: a u64 seed to replay a run (printed by every run).
//! - `CI=true`: an unavailable PostgreSQL server fails the run.

mod counts;
mod engines;
pub(crate) mod gen_data;
pub(crate) mod gen_query;
mod known_bugs;
mod per_record;
pub(crate) mod pools;
mod regressions;
mod scoring;
mod shrink;
mod tlp;
mod why;

use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};

use proptest::strategy::{Strategy, ValueTree};
use segql::schema::Schema;
use segql::syntax::ast::Library;

use crate::support::pg::TestPg;
use engines::Loaded;
use gen_data::DataSet;
use gen_query::{GLibrary, GQuery};

/// Queries checked against each data set.
const QUERIES_PER_DATA_SET: usize = 50;

/// Shrinking steps allowed per failure (each reruns one query, or reloads
/// a data set and reruns one query).
const MAX_SHRINK_STEPS: usize = 3000;

fn data_sets_wanted() -> usize {
    std::env::var("SEGQL_DIFF_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200)
}

fn seed() -> u64 {
    std::env::var("SEGQL_DIFF_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(0)
        })
}

/// Loads a data set into every engine (PostgreSQL in a fresh database).
fn load<'a>(schema: &'a Schema, data: &DataSet, pg: Option<&TestPg>) -> Result<Loaded<'a>, String> {
    load_into(schema, data, pg, "differential_data")
}

/// [`load`] with PostgreSQL's database named `database`: tests that run at
/// the same time in the shared cluster need names of their own, as
/// re-creating a database cuts off whoever is connected to it.
fn load_into<'a>(
    schema: &'a Schema,
    data: &DataSet,
    pg: Option<&TestPg>,
    database: &str,
) -> Result<Loaded<'a>, String> {
    let client = pg.map(|pg| pg.fresh_database(database));
    Loaded::new(
        schema,
        pools::now(),
        &|conn| data.insert_into(conn).map_err(|e| format!("insert: {e}")),
        client,
    )
}

/// Parses and checks a generated library (it is well-formed by construction,
/// so an error here is a finding too).
fn parse_library(schema: &Schema, library: &GLibrary) -> Result<Library, String> {
    let text = library.render();
    engines::library(schema, &text).map_err(|e| format!("{e}\nlibrary:\n{text}"))
}

/// Checks one query; a panic in any engine counts as a failure.
fn check(env: &Loaded, library: &Library, query: &GQuery) -> Result<(), String> {
    catch_unwind(AssertUnwindSafe(|| {
        tlp::check_text(env, Some(library), &query.render(), &query.guards()).map(|_| ())
    }))
    .unwrap_or_else(|panic| {
        let message = panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        Err(format!("panic: {message}\nquery: {}", query.render()))
    })
}

/// Loads and checks; `Some(report)` when the case fails.
fn fails(
    schema: &Schema,
    data: &DataSet,
    library: &GLibrary,
    query: &GQuery,
    pg: Option<&TestPg>,
) -> Option<String> {
    let library = match parse_library(schema, library) {
        Ok(library) => library,
        Err(e) => return Some(e),
    };
    match load(schema, data, pg) {
        Err(e) => Some(format!("loading the data set failed: {e}")),
        Ok(env) => unknown_failure(check(&env, &library, query)),
    }
}

/// A failure that is not a known bug's symptom: shrinking must keep to the
/// failure it started from, not drift into a known one.
fn unknown_failure(result: Result<(), String>) -> Option<String> {
    result
        .err()
        .filter(|report| known_bugs::known_error(report).is_none())
}

/// Shrinks a failing case (see `shrink`) and renders the final report; the
/// case is also written as a fixture under `CARGO_TARGET_TMPDIR`.
fn minimize(
    schema: &Schema,
    pg: Option<&TestPg>,
    mut data: DataSet,
    mut library: GLibrary,
    mut query: GQuery,
    mut report: String,
) -> String {
    let mut budget = MAX_SHRINK_STEPS;
    for _round in 0..2 {
        // The query first, against data loaded once.
        if let (Ok(env), Ok(lib)) = (load(schema, &data, pg), parse_library(schema, &library)) {
            query = shrink::greedy(
                query,
                shrink::query_candidates,
                |q| unknown_failure(check(&env, &lib, q)),
                &mut budget,
                &mut report,
            );
        }
        data = shrink::greedy(
            data,
            shrink::data_candidates,
            |d| fails(schema, d, &library, &query, pg),
            &mut budget,
            &mut report,
        );
        library = shrink::greedy(
            library,
            shrink::library_candidates,
            |l| fails(schema, &data, l, &query, pg),
            &mut budget,
            &mut report,
        );
    }
    let data_sql = data.to_sql();
    let mut fixture = String::from("# Found by the differential tests; describe the bug here.\n");
    for guard in query.guards() {
        fixture.push_str(&format!("#! guard: {guard}\n"));
    }
    if query.render().to_lowercase().contains(" in ") {
        for line in library.render().lines() {
            fixture.push_str(&format!("#! library: {line}\n"));
        }
    }
    fixture.push_str(&query.render());
    fixture.push('\n');
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("differential-failures");
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    let written = std::fs::create_dir_all(&dir)
        .and_then(|_| std::fs::write(dir.join(format!("case_{stamp}.segql")), &fixture))
        .and_then(|_| std::fs::write(dir.join(format!("case_{stamp}.sql")), &data_sql))
        .map(|_| {
            format!(
                "fixture written to {}/case_{stamp}.segql and .sql",
                dir.display()
            )
        })
        .unwrap_or_else(|e| format!("could not write the fixture: {e}"));
    format!(
        "{report}\n--- minimal query ---\n{}\nguards: {:?}\n--- library ---\n{}--- data ---\n{data_sql}--- {written}\n",
        query.render(),
        query.guards(),
        library.render()
    )
}

/// Draws `data_sets` data sets with a batch of queries each and checks them
/// all; returns the number of queries checked.
fn run(data_sets: usize, pg: Option<&TestPg>, seed: u64) -> usize {
    let schema = segql::schema::crm_schema();
    let mut generator = gen_query::QueryGen::new(schema.clone());
    let queries = generator.query();
    let libraries = generator.library();
    let data = gen_data::data_set_strategy(&schema);
    let mut runner = gen_query::seeded_runner(seed);
    let mut checked = 0;
    let mut skipped: BTreeMap<&str, usize> = BTreeMap::new();
    for _ in 0..data_sets {
        let raw = data
            .new_tree(&mut runner)
            .expect("data sets never reject")
            .current();
        let mut data_set = gen_data::resolve(&schema, &raw);
        if pg.is_some() {
            data_set = data_set.without_nul();
        }
        let library = libraries
            .new_tree(&mut runner)
            .expect("libraries never reject")
            .current();
        let env = match load(&schema, &data_set, pg) {
            Ok(env) => env,
            Err(e) => panic!(
                "seed {seed}: loading a data set failed: {e}\n{}",
                data_set.to_sql()
            ),
        };
        let parsed = match parse_library(&schema, &library) {
            Ok(parsed) => parsed,
            Err(e) => panic!("seed {seed}: a generated library fails: {e}"),
        };
        let mut done = 0;
        while done < QUERIES_PER_DATA_SET {
            let query = queries
                .new_tree(&mut runner)
                .expect("queries never reject")
                .current();
            if pg.is_some() && nul_reaches(&query, &library) {
                *skipped.entry(NUL_ON_POSTGRES).or_insert(0) += 1;
                continue;
            }
            if let Some(bug) = known_bugs::affected_by(&query, &library) {
                *skipped.entry(bug.description).or_insert(0) += 1;
                continue;
            }
            done += 1;
            if let Err(report) = check(&env, &parsed, &query) {
                if let Some(known) = known_bugs::known_error(&report) {
                    *skipped.entry(known.description).or_insert(0) += 1;
                    done -= 1;
                    continue;
                }
                drop(env);
                let report = minimize(&schema, pg, data_set, library, query, report);
                panic!("seed {seed} (SEGQL_DIFF_SEED={seed} replays it):\n{report}");
            }
            checked += 1;
        }
    }
    for (bug, n) in &skipped {
        println!("skipped {n} generated queries: {bug}");
    }
    checked
}

/// Why PostgreSQL runs skip queries with U+0000 in a literal.
const NUL_ON_POSTGRES: &str =
    "PostgreSQL text cannot hold U+0000 (segql refuses such a literal there; tests/it/sql/injection.rs checks the error)";

/// Whether a literal of `query`, or of the library segments it may use,
/// holds U+0000 (written `\u{0}` by the generator).
pub(super) fn nul_reaches(query: &GQuery, library: &GLibrary) -> bool {
    let text = query.render().to_lowercase();
    let library = library.render();
    text.contains("\\u{0}")
        || (library.contains("\\u{0}")
            && library
                .lines()
                .filter_map(|line| line.strip_prefix("segment ")?.split_whitespace().next())
                .any(|name| text.contains(&format!("in {}", name.to_lowercase()))))
}

#[test]
fn sqlite_memory_and_optimizer_agree() {
    let seed = seed();
    let wanted = data_sets_wanted();
    let started = std::time::Instant::now();
    let checked = run(wanted, None, seed);
    println!(
        "sqlite/memory: {checked} queries on {wanted} data sets in {:?} (seed {seed})",
        started.elapsed()
    );
    assert_eq!(checked, wanted * QUERIES_PER_DATA_SET);
}

#[test]
fn postgres_agrees() {
    let Some(pg) = TestPg::start() else {
        return;
    };
    let seed = seed().wrapping_add(1);
    let wanted = (data_sets_wanted() / 10).max(1);
    let started = std::time::Instant::now();
    let checked = run(wanted, Some(&pg), seed);
    println!(
        "postgres: {checked} queries on {wanted} data sets in {:?} (seed {seed})",
        started.elapsed()
    );
    assert_eq!(checked, wanted * QUERIES_PER_DATA_SET);
}

/// Whether the optimized plan of `text` (checked without a library) has a
/// counted `has` of the root's children under a root `or` in PostgreSQL's
/// SQL, which a run may count per row.
fn counts_under_a_root_or(schema: &segql::schema::Schema, text: &str) -> bool {
    let Ok(query) = segql::syntax::parse_query(text) else {
        return false;
    };
    let Ok(plans) = engines::plan(schema, &query, None, &[]) else {
        return false;
    };
    let question =
        segql::sql::root_or_counts::question(&plans.optimized, schema, &segql::sql::Postgres);
    matches!(question, Ok(Some(_)))
}

#[test]
fn generated_queries_cover_every_form() {
    // The generators must keep producing each form the suite claims to
    // cover; a change that silently drops one would weaken every run.
    let schema = segql::schema::crm_schema();
    let mut generator = gen_query::QueryGen::new(schema.clone());
    let queries = generator.query();
    let mut runner = gen_query::seeded_runner(7);
    let mut text = String::new();
    let mut counted_under_root_or = 0;
    for _ in 0..2000 {
        let q = queries.new_tree(&mut runner).expect("queries never reject");
        let rendered = q.current().render();
        counted_under_root_or += usize::from(counts_under_a_root_or(&schema, &rendered));
        text.push_str(&rendered.to_lowercase());
        text.push('\n');
    }
    // PostgreSQL runs these in both forms (`engines::postgres_per_row_count_ids`).
    assert!(
        counted_under_root_or >= 10,
        "only {counted_under_root_or} of 2000 queries count children under a root `or`"
    );
    let deepest = (0..400)
        .map(|_| {
            let q = queries.new_tree(&mut runner).expect("queries never reject");
            q.current().filter.as_ref().map_or(0, has_depth)
        })
        .max()
        .unwrap_or(0);
    assert!(
        deepest >= 4,
        "no `has` nested four deep in 400 queries (deepest {deepest})"
    );
    for needle in [
        " = ",
        " != ",
        " < ",
        " <= ",
        " > ",
        " >= ",
        "is null",
        "is not null",
        " not in [",
        " in [",
        " between ",
        "not between",
        " contains ",
        "starts with",
        "ends with",
        "has no ",
        "at least 0",
        "at most ",
        "exactly ",
        " via ",
        "contact.account.",
        " or ",
        " and ",
        "not ",
        "true",
        "false",
        "now - 30d",
        "today",
        " in contact_",
        "has lead",
        "has account",
        "has contact",
        "has interaction",
        "has subscription",
        "count(",
        "sum(",
        "avg(",
        "min(",
        "max(",
    ] {
        assert!(
            text.contains(needle),
            "no generated query contains {needle:?}"
        );
    }
}

#[test]
fn generated_aggregates_reach_every_position() {
    use gen_query::GExpr;
    // Chains of three hops, aggregates under `not`, inside `has` filters
    // and inside other aggregates' hop filters, and in library segments.
    fn walk(e: &GExpr, under_not: bool, nested: bool, seen: &mut [bool; 4]) {
        match e {
            GExpr::Not(inner) => walk(inner, true, nested, seen),
            GExpr::And(items) | GExpr::Or(items) => {
                items.iter().for_each(|i| walk(i, under_not, nested, seen))
            }
            GExpr::Has {
                filter: Some(inner),
                ..
            } => walk(inner, under_not, true, seen),
            GExpr::Aggregate { chain, .. } => {
                seen[0] |= chain.len() == 3;
                seen[1] |= under_not;
                seen[2] |= nested;
                for hop in chain {
                    if let Some(filter) = &hop.filter {
                        walk(filter, under_not, true, seen);
                    }
                }
            }
            _ => {}
        }
    }
    let schema = segql::schema::crm_schema();
    let mut generator = gen_query::QueryGen::new(schema);
    let queries = generator.query();
    let libraries = generator.library();
    let mut runner = gen_query::seeded_runner(11);
    let mut seen = [false; 4];
    for _ in 0..2000 {
        let q = queries.new_tree(&mut runner).expect("queries never reject");
        if let Some(filter) = &q.current().filter {
            walk(filter, false, false, &mut seen);
        }
    }
    for _ in 0..200 {
        let library = libraries
            .new_tree(&mut runner)
            .expect("libraries never reject");
        seen[3] |= library.current().render().contains("count(");
    }
    assert_eq!(
        seen, [true; 4],
        "[3-hop chain, under not, nested, in a library] not all generated"
    );
}

/// How deeply `has` nests in `e`.
fn has_depth(e: &gen_query::GExpr) -> usize {
    use gen_query::GExpr;
    match e {
        GExpr::Not(inner) => has_depth(inner),
        GExpr::And(items) | GExpr::Or(items) => items.iter().map(has_depth).max().unwrap_or(0),
        GExpr::Has { filter, .. } => 1 + filter.as_deref().map_or(0, has_depth),
        _ => 0,
    }
}
