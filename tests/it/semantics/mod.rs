//! SPEC §2.3's meaning on every engine: the data sets and cases of
//! `cases.toml` run on the memory engine, SQLite and PostgreSQL (when a
//! server is installed), each plan as written and as optimized, and every
//! engine must give the ids the case expects.
//!
//! On the way each engine checks itself: the memory engine's `count` and
//! `contains` agree with `evaluate`; SQLite's and PostgreSQL's layout checks
//! pass and their count queries agree with their ids. The PostgreSQL copy of
//! the data has text columns in a linguistic collation, so the dialect's
//! `COLLATE "C"` is what keeps code-point order and ASCII-only case folding
//! there.

pub mod plan_text;

use std::collections::BTreeMap;
use std::sync::{Mutex, OnceLock};

use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::Connection;
use segql::db::{Backend, PostgresBackend, SqliteBackend};
use segql::eval::{self, Store, StoreBuilder};
use segql::plan::{Plan, Value};
use segql::schema::{crm_schema, FieldType, Schema};
use segql::sql::{self, Dialect, SqlOptions};
use serde::Deserialize;
use uuid::Uuid;

use crate::support::pg::TestPg;

/// `cases.toml`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Cases {
    data: BTreeMap<String, DataSet>,
    group: Vec<Group>,
}

#[derive(Deserialize)]
struct DataSet {
    /// The reference time, RFC 3339.
    now: String,
    /// Records per entity.
    #[serde(flatten)]
    records: BTreeMap<String, Vec<toml::Table>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Group {
    name: String,
    data: String,
    on: Option<String>,
    cases: Vec<Case>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    query: Option<String>,
    plan: Option<String>,
    on: Option<String>,
    #[serde(default)]
    guards: Vec<String>,
    ids: Option<Vec<u64>>,
    error: Option<String>,
}

fn cases() -> &'static Cases {
    static CASES: OnceLock<Cases> = OnceLock::new();
    CASES.get_or_init(|| {
        toml::from_str(include_str!("cases.toml"))
            .unwrap_or_else(|e| panic!("tests/it/semantics/cases.toml: {e}"))
    })
}

fn data_set(name: &str) -> &'static DataSet {
    cases()
        .data
        .get(name)
        .unwrap_or_else(|| panic!("no data set {name} in cases.toml"))
}

/// The reference time of data set `name`.
pub fn now(name: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(&data_set(name).now)
        .unwrap_or_else(|e| panic!("data set {name}: now: {e}"))
        .with_timezone(&Utc)
}

// ----------------------------------------------------------- the data ---

/// The records of data set `name`, as typed values of the default schema.
fn records(name: &str, schema: &Schema) -> Vec<(String, Vec<(String, Value)>)> {
    let mut out = Vec::new();
    for (entity, rows) in &data_set(name).records {
        let e = schema
            .entity(entity)
            .unwrap_or_else(|| panic!("data set {name}: no entity {entity}"));
        for row in rows {
            let values = row
                .iter()
                .map(|(field, value)| {
                    let f = e
                        .field(field)
                        .unwrap_or_else(|| panic!("data set {name}: no field {entity}.{field}"));
                    let typed = typed(&f.ty, value)
                        .unwrap_or_else(|| panic!("data set {name}: {entity}.{field} = {value}"));
                    (field.clone(), typed)
                })
                .collect();
            out.push((entity.clone(), values));
        }
    }
    out
}

/// A data file's value as a field of type `ty` holds it.
fn typed(ty: &FieldType, value: &toml::Value) -> Option<Value> {
    use toml::Value as T;
    Some(match (ty, value) {
        (FieldType::Uuid, T::Integer(n)) => Value::Uuid(Uuid::from_u128(u128::try_from(*n).ok()?)),
        (FieldType::Text, T::String(s)) => Value::Text(s.clone()),
        (FieldType::Integer | FieldType::Choice(_), T::Integer(n)) => Value::Integer(*n),
        (FieldType::Decimal, T::Float(x)) => Value::Decimal(*x),
        (FieldType::Bool, T::Boolean(b)) => Value::Bool(*b),
        (FieldType::Date, T::String(s)) => {
            Value::Date(NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()?)
        }
        (FieldType::DateTime, T::String(s)) => {
            Value::DateTime(DateTime::parse_from_rfc3339(s).ok()?.with_timezone(&Utc))
        }
        _ => return None,
    })
}

/// Data set `name` in SQLite, in the SPEC §3.1 layout of the default schema.
pub fn sqlite_db(name: &str) -> Connection {
    let schema = crm_schema();
    let conn = Connection::open_in_memory().unwrap();
    segql::demo::create_tables(&mut SqliteBackend::new(&conn), &schema).unwrap();
    segql::demo::create_indexes(&mut SqliteBackend::new(&conn), &schema).unwrap();
    for (table, values) in records(name, &schema) {
        let names: Vec<&str> = values.iter().map(|(c, _)| c.as_str()).collect();
        let marks: Vec<String> = (1..=values.len()).map(|i| format!("?{i}")).collect();
        let stored: Vec<rusqlite::types::Value> = values
            .iter()
            .map(|(_, v)| {
                use rusqlite::types::Value as S;
                match v {
                    Value::Text(s) => S::Text(s.clone()),
                    Value::Integer(i) => S::Integer(*i),
                    Value::Decimal(x) => S::Real(*x),
                    Value::Bool(b) => S::Integer((*b).into()),
                    Value::Uuid(u) => S::Text(u.to_string()),
                    Value::Date(d) => S::Text(d.format("%Y-%m-%d").to_string()),
                    Value::DateTime(t) => S::Text(t.format("%Y-%m-%dT%H:%M:%SZ").to_string()),
                    other => panic!("not a stored value: {other:?}"),
                }
            })
            .collect();
        conn.execute(
            &format!(
                "INSERT INTO {table} ({}) VALUES ({})",
                names.join(", "),
                marks.join(", ")
            ),
            rusqlite::params_from_iter(stored),
        )
        .unwrap();
    }
    conn
}

/// Data set `name` in the memory engine, built record by record.
pub fn store(name: &str) -> Store {
    let schema = crm_schema();
    let mut builder = StoreBuilder::new(&schema);
    for (entity, values) in records(name, &schema) {
        builder
            .insert(&entity, values.iter().map(|(f, v)| (f.as_str(), v.clone())))
            .unwrap_or_else(|e| panic!("data set {name}: {e}"));
    }
    builder.build().unwrap()
}

/// Data set `name` copied from SQLite into a fresh PostgreSQL database, its
/// text columns in a linguistic collation (see the module docs).
pub fn postgres_db(name: &str) -> Option<(TestPg, postgres::Client)> {
    let pg = TestPg::start()?;
    let mut client = pg.client();
    let schema = crm_schema();
    segql::demo::copy_sqlite_to_postgres(&sqlite_db(name), &mut client, &schema).unwrap();
    linguistic_text(&mut client, &schema);
    Some((pg, client))
}

/// Puts the text columns of `schema`'s tables in a linguistic collation,
/// which orders "a" before "Z" and lowercases "É": the generated SQL must
/// not depend on the column's collation.
pub fn linguistic_text(client: &mut postgres::Client, schema: &Schema) {
    let collation: String = client
        .query_one(
            "SELECT collname::text FROM pg_collation \
             WHERE collname IN ('und-x-icu', 'en-x-icu', 'C.utf8', 'en_US.utf8') \
             ORDER BY collprovider DESC LIMIT 1",
            &[],
        )
        .unwrap()
        .get(0);
    for e in &schema.entities {
        for f in e.fields.iter().filter(|f| f.ty == FieldType::Text) {
            client
                .batch_execute(&format!(
                    "ALTER TABLE {} ALTER COLUMN {} TYPE text COLLATE \"{collation}\"",
                    e.table, f.column
                ))
                .unwrap();
        }
    }
}

// -------------------------------------------------------- the engines ---

/// One data set in every engine, shared by the tests.
struct Engines {
    now: DateTime<Utc>,
    store: Store,
    sqlite: Mutex<Connection>,
    postgres: Option<(TestPg, Mutex<postgres::Client>)>,
}

fn engines(name: &str) -> &'static Engines {
    static ENGINES: OnceLock<BTreeMap<String, Engines>> = OnceLock::new();
    ENGINES
        .get_or_init(|| {
            cases()
                .data
                .keys()
                .map(|name| {
                    let engines = Engines {
                        now: now(name),
                        store: store(name),
                        sqlite: Mutex::new(sqlite_db(name)),
                        postgres: postgres_db(name).map(|(pg, c)| (pg, Mutex::new(c))),
                    };
                    (name.clone(), engines)
                })
                .collect()
        })
        .get(name)
        .unwrap_or_else(|| panic!("no data set {name}"))
}

type Answer = Result<Vec<Uuid>, segql::Error>;

impl Engines {
    /// Each engine's name and answer for `plan`.
    fn answers(&self, plan: &Plan) -> Vec<(&'static str, Answer)> {
        let mut out = vec![("memory", self.memory(plan)), ("SQLite", self.sqlite(plan))];
        if let Some((_, client)) = &self.postgres {
            let mut client = client.lock().unwrap_or_else(|e| e.into_inner());
            out.push(("PostgreSQL", self.postgres(&mut client, plan)));
        }
        out
    }

    fn memory(&self, plan: &Plan) -> Answer {
        let ids = eval::evaluate(plan, &self.store, self.now)?;
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "ascending");
        assert_eq!(eval::count(plan, &self.store, self.now)?, ids.len());
        for record in self.store.ids(&plan.entity) {
            assert_eq!(
                eval::contains(plan, &self.store, record, self.now)?,
                ids.contains(&record),
                "contains() disagrees with evaluate() on {record}"
            );
        }
        Ok(ids)
    }

    fn sqlite(&self, plan: &Plan) -> Answer {
        let schema = crm_schema();
        let conn = self.sqlite.lock().unwrap_or_else(|e| e.into_inner());
        let mut db = SqliteBackend::new(&*conn);
        db.verify_layout(&schema, plan).unwrap();
        let q = self.compile(plan, &sql::Sqlite, false)?;
        // A database error is an answer too (an integer sum out of range).
        let found = db.query_ids(&q)?;
        let c = self.compile(plan, &sql::Sqlite, true)?;
        let count = db.query_count(&c)?;
        assert_eq!(
            count as usize,
            found.len(),
            "count query disagrees with\n{}",
            q.sql
        );
        Ok(found)
    }

    fn postgres(&self, client: &mut postgres::Client, plan: &Plan) -> Answer {
        let schema = crm_schema();
        let q = self.compile(plan, &sql::Postgres, false)?;
        let c = self.compile(plan, &sql::Postgres, true)?;
        let mut db = PostgresBackend::new(&mut *client);
        db.verify_layout(&schema, plan).unwrap();
        let found = db.query_ids(&q)?;
        let count = db.query_count(&c)?;
        assert_eq!(count as usize, found.len(), "{}", c.sql);
        Ok(found)
    }

    #[allow(clippy::result_large_err)]
    fn compile(
        &self,
        plan: &Plan,
        dialect: &dyn Dialect,
        count: bool,
    ) -> segql::Result<sql::SqlQuery> {
        let options = SqlOptions::new(count, self.now);
        sql::to_sql(plan, &crm_schema(), dialect, &options)
    }
}

// ---------------------------------------------------------- the cases ---

/// The plan of a case: its query checked, or its plan text read.
fn plan_of(group: &Group, case: &Case) -> Result<Plan, String> {
    let schema = crm_schema();
    match (&case.query, &case.plan) {
        (Some(text), None) => {
            let context = segql::Options {
                schema: &schema,
                library: None,
                guards: &case.guards,
                optimize: false,
            };
            let query = segql::syntax::parse_query(text).map_err(|e| e.to_string())?;
            segql::check::check(&query, &context).map_err(|e| e.to_string())
        }
        (None, Some(text)) => {
            let entity = case
                .on
                .as_ref()
                .or(group.on.as_ref())
                .ok_or("a plan needs `on`, its root entity")?;
            if !case.guards.is_empty() {
                return Err("guards apply to queries only".into());
            }
            let filter = plan_text::parse(text, entity, &schema)?;
            Ok(Plan {
                entity: entity.clone(),
                filter,
            })
        }
        _ => Err("a case gives one of `query` and `plan`".into()),
    }
}

/// What is wrong with `case`'s answers, if anything.
fn check_case(group: &Group, case: &Case) -> Result<(), String> {
    let plan = plan_of(group, case)?;
    let engines = engines(&group.data);
    let optimized = segql::optimize::optimize(plan.clone());
    let mut wrong = Vec::new();
    for (which, plan) in [("as written", &plan), ("optimized", &optimized)] {
        for (engine, answer) in engines.answers(plan) {
            let got = match &answer {
                Ok(ids) => show_ids(ids.iter().map(|u| u.as_u128())),
                Err(e) => format!("error ({}): {e}", e.kind()),
            };
            let right = match (&case.ids, &case.error, &answer) {
                (Some(want), None, Ok(ids)) => ids
                    .iter()
                    .map(|u| u.as_u128())
                    .eq(want.iter().map(|&n| u128::from(n))),
                (None, Some(kind), Err(e)) => e.kind() == kind,
                (Some(_), Some(_), _) | (None, None, _) => {
                    return Err("a case gives one of `ids` and `error`".into())
                }
                _ => false,
            };
            if !right {
                wrong.push(format!("{engine}, plan {which}: {got}"));
            }
        }
    }
    if wrong.is_empty() {
        Ok(())
    } else {
        let want = match (&case.ids, &case.error) {
            (Some(ids), _) => show_ids(ids.iter().map(|&n| u128::from(n))),
            (_, Some(kind)) => format!("error ({kind})"),
            _ => String::new(),
        };
        Err(format!(
            "expected {want}; got\n    {}",
            wrong.join("\n    ")
        ))
    }
}

/// Ids as the data file writes them: small ones in decimal, others in hex.
fn show_ids(ids: impl Iterator<Item = u128>) -> String {
    let shown: Vec<String> = ids
        .map(|n| {
            if n < 0x100 {
                n.to_string()
            } else {
                format!("{n:#x}")
            }
        })
        .collect();
    format!("[{}]", shown.join(", "))
}

/// Runs every case of group `name`, reporting all failures at once.
fn run_group(name: &str) {
    let group = cases()
        .group
        .iter()
        .find(|g| g.name == name)
        .unwrap_or_else(|| panic!("no group {name} in cases.toml"));
    let failures: Vec<String> = group
        .cases
        .iter()
        .filter_map(|case| {
            let label = case.query.as_ref().or(case.plan.as_ref())?;
            check_case(group, case)
                .err()
                .map(|e| format!("`{label}`: {e}"))
        })
        .collect();
    assert!(!group.cases.is_empty(), "group {name} has no cases");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// One test per group of cases.
macro_rules! groups {
    ($($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                run_group(stringify!($name));
            }
        )*

        const GROUPS: &[&str] = &[$(stringify!($name)),*];
    };
}

groups!(
    // On the crm data set.
    no_filter_selects_every_record_in_id_order,
    not_equal_and_not_in_match_nulls,
    is_null_and_is_not_null,
    negated_comparisons_and_between_include_nulls,
    negation_distributes_over_and_and_or_exactly,
    text_order_is_by_code_point,
    text_matching_folds_ascii_letters_only,
    text_matching_treats_wildcards_literally,
    starts_with_under_or_matches_each_needle,
    counts_of_related_records_include_zero,
    relative_times_use_the_reference_time,
    relative_times_out_of_range_are_invalid_values,
    dotted_paths_with_missing_parents_and_their_negation,
    nested_relationships,
    integer_fields_compare_numerically_with_decimals,
    bools_and_uuids,
    query_texts_keep_the_two_valued_meaning,
    guards_are_anded_in,
    parts_that_fold_to_constants_leave_no_parameters_behind,
    // On the small data set.
    null_is_false_and_not_is_the_complement,
    choices_compare_by_code_and_order,
    bools_default_to_false_and_negate,
    quantifiers_count_children_including_none,
    recent_interactions_use_the_reference_time,
    relative_times_out_of_range_are_an_error,
    dotted_paths_with_missing_parents,
    text_orders_by_code_point,
    text_search_folds_ascii_only_and_is_literal,
    integer_and_decimal_mix,
    queries_nulls_and_negation,
    queries_quantifiers,
    queries_paths_and_nesting,
    queries_text,
    queries_numbers_and_guards,
    // On the aggregates data set (and one more).
    aggregates_count_the_records_reached_including_none,
    aggregates_sum_nothing_and_missing_values_to_zero,
    decimal_sums_are_the_double_nearest_the_sum_of_the_doubles,
    aggregates_avg_min_max_of_nothing_are_missing,
    aggregates_take_each_record_once_where_paths_meet,
    aggregates_follow_parents_chains_and_filters,
    aggregates_order_text_by_code_point_and_choices_by_code,
    aggregates_of_decimals_keep_every_digit,
    aggregates_under_or,
    integer_sums_beyond_i64_are_an_error,
    aggregates_of_nothing_and_of_missing_values,
    aggregates_over_times_text_and_choices,
    aggregate_chains_count_distinct_records,
    // On the dangling data set.
    a_dangling_parent_reaches_nothing_even_where_orphans_share_its_id,
);

#[test]
fn every_group_of_cases_has_a_test() {
    let in_file: Vec<&str> = cases().group.iter().map(|g| g.name.as_str()).collect();
    let mut sorted_file = in_file.clone();
    sorted_file.sort();
    sorted_file.dedup();
    assert_eq!(sorted_file.len(), in_file.len(), "a group name repeats");
    let mut sorted_tests = GROUPS.to_vec();
    sorted_tests.sort();
    assert_eq!(
        sorted_file, sorted_tests,
        "groups in cases.toml and tests in mod.rs differ"
    );
}

/// The plan notation reads back every plan the optimizer snapshots print:
/// the checked and optimized plans of every valid fixture.
#[test]
fn plan_text_reads_what_the_snapshots_print() {
    let dir = crate::support::fixture::tests_dir().join("queries/valid");
    let mut read = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let fixture = crate::support::fixture::Fixture::load(&entry.unwrap().path());
        let library = fixture.parsed_library();
        let query = segql::syntax::parse_query(&fixture.text).unwrap();
        let plan = segql::check::check(&query, &fixture.context(library.as_ref())).unwrap();
        let optimized = segql::optimize::optimize(plan.clone());
        for plan in [plan, optimized] {
            let text = crate::optimize::fixtures::show(&plan.filter);
            let again = plan_text::parse(&text, &plan.entity, &fixture.schema)
                .unwrap_or_else(|e| panic!("{}: `{text}`: {e}", fixture.name));
            assert_eq!(again, plan.filter, "{}: `{text}`", fixture.name);
            read += 1;
        }
    }
    assert!(read >= 100, "only {read} plans read");
}
