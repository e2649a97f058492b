//! Lead scoring (SPEC 6) must give the same results on every engine: for
//! generated model files on generated data, `ops::score` with SQLite's one
//! statement per model, with the memory engine, and with PostgreSQL's
//! statements must write the same `lead_score` rows and lead fields and
//! give the same report. Each result is also checked against an oracle
//! that computes every scored lead's score in this file from segment
//! answers alone (`lead where EXPR` for an `if` rule, `lead where
//! count(CHAIN) >= k` for a `per` rule) and the arithmetic of SPEC 6
//! written out again here. A second run at the same reference time must
//! write nothing, and a dry run must change nothing.
//!
//! The model files exercise every rule form: `add`/`subtract N if EXPR`
//! (EXPR from the query generator's expressions on `lead`),
//! `add`/`subtract N per CHAIN [up to M]` (chains of one to three hops),
//! caps, subtractions below 0, `max score`, grades, several models per
//! file, models without grades or `max score`.
//!
//! Each engine scores its own copy of the data: a fresh in-memory SQLite
//! database per run, and on PostgreSQL one database per data set, reset
//! before each model file (`lead_score` dropped, the leads' `score` and
//! `sales_ready` restored). Dry runs and second runs are checked on half
//! the files, taking turns between the engines, to keep the default run
//! (2,000 model files on SQLite and the memory engine, 200 on PostgreSQL)
//! near a minute on two cores in a debug build; the data sets are shared
//! between two threads.
//!
//! `SEGQL_DIFF_SEED` replays a run, as in the other differential tests
//! (each data set draws from its own runner, seeded by the run's seed and
//! its number, so threads do not change what is drawn). A failure prints
//! the seed, the model file, the data as SQL and the differing rows.

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use rusqlite::Connection;
use segql::db::{Backend, PostgresBackend, SqliteBackend};
use segql::ops::{GradeCount, ModelReport, ScoreEngine, ScoreOptions, ScoreReport};
use segql::schema::Schema;
use segql::scoring::Model;

use super::gen_data::{self, DataSet};
use super::gen_query::{self, Case, GExpr, GPred, QueryGen};
use super::{pools, seed};
use crate::support::pg::TestPg;

/// Model files scored per data set.
const MODELS_PER_DATA_SET: usize = 20;
/// Data sets of the SQLite/memory run (and of the PostgreSQL run).
const SQLITE_DATA_SETS: usize = 100;
const POSTGRES_DATA_SETS: usize = 10;

/// One generated rule.
#[derive(Clone, Debug)]
struct GRule {
    subtract: bool,
    points: i64,
    kind: GRuleKind,
}

#[derive(Clone, Debug)]
enum GRuleKind {
    /// The condition's text.
    If(String),
    /// The chain's text (what goes inside `count(..)`), and the cap.
    Per(String, Option<i64>),
}

/// One generated model; numbers are what the oracle computes with.
#[derive(Clone, Debug)]
struct GModel {
    name: String,
    sales_ready_at: i64,
    /// Strictly descending minimums, distinct labels.
    grades: Vec<(String, i64)>,
    max_score: Option<i64>,
    rules: Vec<GRule>,
    /// Where the settings go among the rules (any order is allowed).
    settings_at: usize,
    /// How the model file's own words are written (they are
    /// case-insensitive, like the language's).
    upper: bool,
}

#[derive(Clone, Debug)]
struct GModelFile {
    models: Vec<GModel>,
}

/// A word of the model file, in upper case when `upper`.
fn word(text: &str, upper: bool) -> String {
    if upper {
        text.to_uppercase()
    } else {
        text.to_string()
    }
}

impl GRule {
    fn render(&self, upper: bool) -> String {
        let w = |t: &str| word(t, upper);
        let sign = w(if self.subtract { "subtract" } else { "add" });
        match &self.kind {
            GRuleKind::If(expr) => format!("{sign} {} {} {expr}", self.points, w("if")),
            GRuleKind::Per(chain, cap) => {
                let cap = cap
                    .map(|c| format!(" {} {c}", w("up to")))
                    .unwrap_or_default();
                format!("{sign} {} {} {chain}{cap}", self.points, w("per"))
            }
        }
    }

    /// The rule's points for `count` (an `if` rule: 1 when it holds).
    fn points_for(&self, count: i64) -> i64 {
        let mut magnitude = self.points * count;
        if let GRuleKind::Per(_, Some(cap)) = &self.kind {
            magnitude = magnitude.min(*cap);
        }
        if self.subtract {
            -magnitude
        } else {
            magnitude
        }
    }
}

impl GModel {
    fn render(&self) -> String {
        let w = |t: &str| word(t, self.upper);
        let mut settings = vec![format!("{} {}", w("sales ready at"), self.sales_ready_at)];
        if !self.grades.is_empty() {
            let grades: Vec<String> = self
                .grades
                .iter()
                .map(|(label, min)| {
                    format!("{} {} {min}", gen_query::string_literal(label), w("at"))
                })
                .collect();
            settings.push(format!("{} {}", w("grades"), grades.join(", ")));
        }
        if let Some(max) = self.max_score {
            settings.push(format!("{} {max}", w("max score")));
        }
        let mut lines: Vec<String> = self.rules.iter().map(|r| r.render(self.upper)).collect();
        let at = self.settings_at.min(lines.len());
        lines.splice(at..at, settings);
        let body: String = lines.iter().map(|l| format!("  {l}\n")).collect();
        format!(
            "{} {} {} {{\n{body}}}\n",
            w("model"),
            self.name,
            w("on lead")
        )
    }

    /// SPEC 6's score from each rule's count.
    fn score(&self, counts: &[i64]) -> i64 {
        let total: i64 = self
            .rules
            .iter()
            .zip(counts)
            .map(|(rule, &n)| rule.points_for(n))
            .sum();
        let total = total.max(0);
        self.max_score.map_or(total, |max| total.min(max))
    }

    fn grade(&self, score: i64) -> Option<String> {
        self.grades
            .iter()
            .find(|(_, min)| *min <= score)
            .map(|(label, _)| label.clone())
    }
}

impl GModelFile {
    fn render(&self) -> String {
        self.models
            .iter()
            .map(GModel::render)
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// Whether a generated condition or chain reads what scoring writes (a
/// rule may not; the text test is coarse, which only drops a few more).
fn reads_scoring_output(text: &str) -> bool {
    let lower = text.to_lowercase();
    lower.contains("score") || lower.contains("sales_ready")
}

fn case_strategy() -> BoxedStrategy<Case> {
    prop_oneof![6 => Just(Case::Lower), 1 => Just(Case::Upper), 1 => Just(Case::Title)].boxed()
}

/// Points: mostly small, sometimes 0 or the top of the range.
fn points_strategy() -> BoxedStrategy<i64> {
    prop_oneof![
        2 => Just(0i64),
        8 => 1..=60i64,
        3 => 60..=1000i64,
        1 => Just(1000i64),
        1 => 1000..=segql::scoring::MAX_RULE_POINTS,
    ]
    .boxed()
}

fn rule_strategy(generator: &mut QueryGen) -> BoxedStrategy<GRule> {
    let condition = (generator.expr("lead", 3, false), case_strategy())
        .prop_map(|(e, case)| e.render(case))
        .prop_filter("rules may not read score or sales_ready", |t| {
            !reads_scoring_output(t)
        });
    let chain = (generator.chain("lead", 1), case_strategy())
        .prop_map(|(chain, case)| {
            let text = GExpr::Aggregate {
                func: "count",
                chain,
                field: None,
                test: GPred::Bare,
            }
            .render(case);
            // `count(` ... `)`, whatever the case.
            text[6..text.len() - 1].to_string()
        })
        .prop_filter("rules may not read score or sales_ready", |t| {
            !reads_scoring_output(t)
        });
    let cap = proptest::option::weighted(
        0.5,
        prop_oneof![1 => Just(0i64), 6 => 1..=200i64, 2 => 200..=2000i64],
    );
    let kind = prop_oneof![
        1 => condition.prop_map(GRuleKind::If),
        1 => (chain, cap).prop_map(|(c, cap)| GRuleKind::Per(c, cap)),
    ];
    (proptest::bool::weighted(0.35), points_strategy(), kind)
        .prop_map(|(subtract, points, kind)| GRule {
            subtract,
            points,
            kind,
        })
        .boxed()
}

/// Grade labels, some non-ASCII, some alike but for case, some with what
/// SQL text must escape.
const LABELS: &[&str] = &[
    "A", "B", "C", "D", "a", "hot", "Warm", "cold", "Ü", "É+", "", "it's", r"a\b%_",
];

fn grades_strategy() -> BoxedStrategy<Vec<(String, i64)>> {
    (
        proptest::sample::subsequence(LABELS.to_vec(), 0..=4),
        proptest::collection::vec(0..=600i64, 4),
        any::<bool>(),
    )
        .prop_map(|(labels, mut mins, zero_last)| {
            mins.sort_unstable_by(|a, b| b.cmp(a));
            mins.dedup();
            let mut grades: Vec<(String, i64)> = labels
                .into_iter()
                .zip(mins)
                .map(|(l, m)| (l.to_string(), m))
                .collect();
            if zero_last {
                if let Some(last) = grades.last_mut() {
                    last.1 = 0;
                }
                // Keep the minimums strictly descending.
                let n = grades.len();
                if n >= 2 && grades[n - 2].1 == 0 {
                    grades.pop();
                }
            }
            grades
        })
        .boxed()
}

fn model_strategy(generator: &mut QueryGen) -> BoxedStrategy<GModel> {
    let rules = proptest::collection::vec(rule_strategy(generator), 0..=6);
    (
        rules,
        prop_oneof![1 => Just(0i64), 4 => 1..=300i64, 1 => 300..=1200i64],
        grades_strategy(),
        proptest::option::weighted(0.5, prop_oneof![1 => Just(0i64), 5 => 1..=1500i64]),
        0..8usize,
        proptest::bool::weighted(0.15),
    )
        .prop_map(
            |(rules, sales_ready_at, grades, max_score, settings_at, upper)| GModel {
                name: String::new(),
                sales_ready_at,
                grades,
                max_score,
                rules,
                settings_at,
                upper,
            },
        )
        .boxed()
}

fn model_file_strategy(generator: &mut QueryGen) -> BoxedStrategy<GModelFile> {
    const NAMES: &[&str] = &["engagement", "Fit", "intent", "m", "Model_2"];
    proptest::collection::vec(model_strategy(generator), 1..=3)
        .prop_map(|models| GModelFile {
            models: models
                .into_iter()
                .enumerate()
                .map(|(i, mut m)| {
                    m.name = format!("{}_{i}", NAMES[(i + m.rules.len()) % NAMES.len()]);
                    m
                })
                .collect(),
        })
        .boxed()
}

/// A `lead_score` row: lead, model, score, grade, sales_ready.
type ScoreRow = (String, String, i64, Option<String>, bool);
/// A lead's id, `score` and `sales_ready` after scoring.
type LeadRow = (String, Option<i64>, Option<bool>);

/// What one engine did to one copy of the data.
#[derive(Debug, PartialEq)]
struct Outcome {
    report: ScoreReport,
    rows: Vec<ScoreRow>,
    leads: Vec<LeadRow>,
}

/// A new in-memory SQLite database holding `data`.
fn fresh_sqlite(schema: &Schema, data: &DataSet) -> Connection {
    let conn = Connection::open_in_memory().expect("open an in-memory database");
    segql::demo::create_tables(&mut SqliteBackend::new(&conn), schema).expect("create tables");
    data.insert_into(&conn).expect("insert the data set");
    conn
}

fn sqlite_rows(conn: &Connection) -> (Vec<ScoreRow>, Vec<LeadRow>) {
    let mut stmt = conn
        .prepare("SELECT lead_id, model, score, grade, sales_ready FROM lead_score")
        .expect("read lead_score");
    let mut rows: Vec<ScoreRow> = stmt
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get::<_, i64>(4)? != 0,
            ))
        })
        .expect("read lead_score")
        .collect::<rusqlite::Result<_>>()
        .expect("read lead_score");
    rows.sort();
    (rows, sqlite_leads(conn))
}

fn sqlite_leads(conn: &Connection) -> Vec<LeadRow> {
    let mut stmt = conn
        .prepare("SELECT id, score, sales_ready FROM lead")
        .expect("read leads");
    let mut leads: Vec<LeadRow> = stmt
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get::<_, Option<i64>>(2)?.map(|b| b != 0),
            ))
        })
        .expect("read leads")
        .collect::<rusqlite::Result<_>>()
        .expect("read leads");
    leads.sort();
    leads
}

fn postgres_rows(client: &mut postgres::Client) -> (Vec<ScoreRow>, Vec<LeadRow>) {
    let mut rows: Vec<ScoreRow> = client
        .query(
            "SELECT lead_id::text, model, score, grade, sales_ready FROM lead_score",
            &[],
        )
        .expect("read lead_score")
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4)))
        .collect();
    rows.sort();
    (rows, postgres_rows_leads(client))
}

fn options(engine: ScoreEngine, dry_run: bool) -> ScoreOptions {
    ScoreOptions {
        dry_run,
        now: pools::now(),
        engine,
    }
}

/// Integer sums beyond i64 are errors, each engine in its own words; a
/// model file that overflows in any engine is drawn again (see the
/// differential suite, and `sqlite_outcomes` on why one engine may
/// overflow where another does not).
fn is_overflow(message: &str) -> bool {
    message.contains("64-bit integer")
        || message.contains("overflow")
        || message.contains("out of range")
}

/// Scores `models` with `engine` on `db`; with `twice`, scores again,
/// which must write nothing. The first report.
fn score(
    db: &mut dyn Backend,
    schema: &Schema,
    models: &[Model],
    engine: ScoreEngine,
    twice: bool,
) -> Result<ScoreReport, String> {
    let report = segql::ops::score(db, schema, models, &options(engine, false))
        .map_err(|e| e.to_string())?;
    if twice {
        let again = segql::ops::score(db, schema, models, &options(engine, false))
            .map_err(|e| e.to_string())?;
        if again.rows_written != 0 || again.leads_updated != 0 {
            return Err(format!(
                "scoring again at the same reference time wrote {} rows and updated {} leads",
                again.rows_written, again.leads_updated
            ));
        }
    }
    Ok(report)
}

/// The report of a dry run must be the run's, but for `dry_run`.
fn same_but_dry(dry: &ScoreReport, report: &ScoreReport) -> Result<(), String> {
    if dry.dry_run
        && (ScoreReport {
            dry_run: false,
            ..dry.clone()
        }) == *report
    {
        Ok(())
    } else {
        Err(format!("the dry run reports\n{dry:?}\nthe run\n{report:?}"))
    }
}

/// The SQLite runs, each on a fresh copy of `data`: the database engine and
/// the memory engine. On half the turns, one of them also makes a dry run
/// first (which must change nothing) or scores twice (the second time
/// writing nothing), each of the four in turn: every check on every file
/// would take twice as long, and these two need no thousands of cases.
fn sqlite_outcomes(
    schema: &Schema,
    data: &DataSet,
    models: &[Model],
    turn: usize,
) -> Result<Vec<(&'static str, Outcome)>, String> {
    let mut results = Vec::new();
    for (i, (label, engine)) in [
        ("sqlite", ScoreEngine::Database),
        ("memory", ScoreEngine::Memory),
    ]
    .into_iter()
    .enumerate()
    {
        let (dry_first, twice) = match turn % 8 {
            0 => (i == 0, false),
            1 => (false, i == 1),
            2 => (i == 1, false),
            3 => (false, i == 0),
            _ => (false, false),
        };
        let result = sqlite_outcome(schema, data, models, engine, dry_first, twice)
            .map_err(|e| format!("{label}: {e}"));
        results.push((label, result));
    }
    // Any failure but an overflow is a finding. An overflow in one engine
    // only is not: where a sum over some lead's related records leaves 64
    // bits, an engine that computes it for every lead before keeping the
    // scored ones fails where one that skips the others does not.
    if let Some(e) = results
        .iter()
        .find_map(|(_, r)| r.as_ref().err().filter(|e| !is_overflow(e)))
    {
        return Err(e.clone());
    }
    let mut out = Vec::new();
    for (label, result) in results {
        out.push((label, result?));
    }
    Ok(out)
}

/// One engine's run on a fresh copy of `data` (see [`sqlite_outcomes`]).
fn sqlite_outcome(
    schema: &Schema,
    data: &DataSet,
    models: &[Model],
    engine: ScoreEngine,
    dry_first: bool,
    twice: bool,
) -> Result<Outcome, String> {
    let conn = fresh_sqlite(schema, data);
    let dry = if dry_first {
        let before = crate::support::ops::dump_sqlite(&conn);
        let dry = segql::ops::score(
            &mut SqliteBackend::new(&conn),
            schema,
            models,
            &options(engine, true),
        )
        .map_err(|e| format!("dry run: {e}"))?;
        if crate::support::ops::dump_sqlite(&conn) != before {
            return Err("the dry run changed the database".into());
        }
        Some(dry)
    } else {
        None
    };
    let report = score(
        &mut SqliteBackend::new(&conn),
        schema,
        models,
        engine,
        twice,
    )?;
    if let Some(dry) = dry {
        same_but_dry(&dry, &report)?;
    }
    let (rows, leads) = sqlite_rows(&conn);
    Ok(Outcome {
        report,
        rows,
        leads,
    })
}

/// A PostgreSQL database holding one data set, reset to it before each
/// model file (cheaper than a new database each time).
struct PgCopy {
    client: postgres::Client,
}

const PG_SAVED: &str = "segql_test_lead_before";

impl PgCopy {
    fn new(pg: &TestPg, schema: &Schema, data: &DataSet, worker: usize) -> PgCopy {
        let mut client = pg.fresh_database(&format!("scoring_differential_{worker}"));
        let conn = fresh_sqlite(schema, data);
        segql::demo::copy_sqlite_to_postgres(&conn, &mut client, schema)
            .expect("copy the data set to PostgreSQL");
        client
            .batch_execute(&format!(
                "CREATE TABLE {PG_SAVED} AS SELECT id, score, sales_ready FROM lead"
            ))
            .expect("save the leads' fields");
        PgCopy { client }
    }

    /// Back to the data set as loaded: no `lead_score`, the leads' own
    /// `score` and `sales_ready` restored.
    fn reset(&mut self) {
        self.client
            .batch_execute(&format!(
                "DROP TABLE IF EXISTS lead_score; \
                 UPDATE lead SET score = b.score, sales_ready = b.sales_ready \
                 FROM {PG_SAVED} AS b WHERE b.id = lead.id"
            ))
            .expect("reset the PostgreSQL copy");
    }

    /// The run; before it, on every other `turn`, a dry run (which must
    /// change nothing: no `lead_score`, the leads as they were), and on the
    /// others a second run (which must write nothing).
    fn outcome(
        &mut self,
        schema: &Schema,
        models: &[Model],
        turn: usize,
    ) -> Result<Outcome, String> {
        self.reset();
        let dry_first = turn.is_multiple_of(2);
        let dry = if dry_first {
            let before = postgres_rows_leads(&mut self.client);
            let dry = segql::ops::score(
                &mut PostgresBackend::new(&mut self.client),
                schema,
                models,
                &options(ScoreEngine::Database, true),
            )
            .map_err(|e| format!("postgres, dry run: {e}"))?;
            let table = self
                .client
                .query_one("SELECT to_regclass('lead_score') IS NOT NULL", &[])
                .map_err(|e| e.to_string())?
                .get::<_, bool>(0);
            if table || postgres_rows_leads(&mut self.client) != before {
                return Err("postgres: the dry run changed the database".into());
            }
            Some(dry)
        } else {
            None
        };
        let report = score(
            &mut PostgresBackend::new(&mut self.client),
            schema,
            models,
            ScoreEngine::Database,
            !dry_first,
        )
        .map_err(|e| format!("postgres: {e}"))?;
        if let Some(dry) = dry {
            same_but_dry(&dry, &report).map_err(|e| format!("postgres: {e}"))?;
        }
        let (rows, leads) = postgres_rows(&mut self.client);
        Ok(Outcome {
            report,
            rows,
            leads,
        })
    }
}

fn postgres_rows_leads(client: &mut postgres::Client) -> Vec<LeadRow> {
    let mut leads: Vec<LeadRow> = client
        .query("SELECT id::text, score, sales_ready FROM lead", &[])
        .expect("read leads")
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    leads.sort();
    leads
}

/// The ids of `lead where FILTER` from the SQLite SQL of the query (not the
/// per-record statement scoring uses).
fn segment(conn: &Connection, schema: &Schema, filter: &str) -> Result<BTreeSet<String>, String> {
    let text = format!("lead where {filter}");
    let query = segql::compile(
        &text,
        &segql::Options::new(schema),
        &segql::sql::Sqlite,
        pools::now(),
    )
    .map_err(|e| format!("oracle: {text}: {e}"))?;
    let ids = SqliteBackend::new(conn)
        .query_ids(&query)
        .map_err(|e| format!("oracle: {text}: {e}"))?;
    Ok(ids.into_iter().map(|id| id.to_string()).collect())
}

/// Leads of one group, by plain SQL on the stored rows (SPEC 6: scored =
/// an existing contact and a status neither Qualified (1) nor
/// Disqualified (2)).
fn group(conn: &Connection, condition: &str) -> BTreeSet<String> {
    let has_contact = "contact_id IN (SELECT id FROM contact)";
    let closed = "status IN (1, 2)";
    let filter = match condition {
        "scored" => format!("{has_contact} AND NOT COALESCE({closed}, FALSE)"),
        "no contact" => format!("NOT COALESCE({has_contact}, FALSE)"),
        _ => format!("{has_contact} AND COALESCE({closed}, FALSE)"),
    };
    let mut stmt = conn
        .prepare(&format!("SELECT id FROM lead WHERE {filter}"))
        .expect("group query");
    let ids = stmt
        .query_map([], |r| r.get::<_, String>(0))
        .expect("group query")
        .collect::<rusqlite::Result<_>>()
        .expect("group query");
    ids
}

/// Every scored lead's score under each model, from segment answers, and
/// the outcome SPEC 6 says follows from them on the unscored data in `conn`.
fn oracle(conn: &Connection, schema: &Schema, file: &GModelFile) -> Result<Outcome, String> {
    let scored = group(conn, "scored");
    let before = sqlite_leads(conn);
    let mut rows = Vec::new();
    let mut best: BTreeMap<String, (i64, bool)> = BTreeMap::new();
    let mut models = Vec::new();
    for model in &file.models {
        // Each rule's count per scored lead (0 when absent).
        let mut counts: BTreeMap<&String, Vec<i64>> = scored
            .iter()
            .map(|id| (id, vec![0; model.rules.len()]))
            .collect();
        for (i, rule) in model.rules.iter().enumerate() {
            match &rule.kind {
                GRuleKind::If(expr) => {
                    for id in segment(conn, schema, &format!("({expr})"))? {
                        if let Some(c) = counts.get_mut(&id) {
                            c[i] = 1;
                        }
                    }
                }
                GRuleKind::Per(chain, _) => {
                    for k in 1.. {
                        let ids = segment(conn, schema, &format!("count({chain}) >= {k}"))?;
                        if ids.is_empty() {
                            break;
                        }
                        if k > 100_000 {
                            return Err(format!("oracle: count({chain}) does not end"));
                        }
                        for id in ids {
                            if let Some(c) = counts.get_mut(&id) {
                                c[i] = k;
                            }
                        }
                    }
                }
            }
        }
        let mut grades: Vec<GradeCount> = model
            .grades
            .iter()
            .map(|(label, _)| GradeCount {
                grade: Some(label.clone()),
                leads: 0,
            })
            .collect();
        grades.push(GradeCount {
            grade: None,
            leads: 0,
        });
        let mut sales_ready = 0;
        for (id, counts) in counts {
            let score = model.score(&counts);
            let grade = model.grade(score);
            let ready = score >= model.sales_ready_at;
            let slot = model
                .grades
                .iter()
                .position(|(l, _)| Some(l) == grade.as_ref())
                .unwrap_or(model.grades.len());
            grades[slot].leads += 1;
            sales_ready += u64::from(ready);
            let entry = best.entry(id.clone()).or_insert((0, false));
            *entry = (entry.0.max(score), entry.1 || ready);
            rows.push((id.clone(), model.name.clone(), score, grade, ready));
        }
        models.push(ModelReport {
            name: model.name.clone(),
            sales_ready,
            grades,
        });
    }
    rows.sort();
    let mut report = ScoreReport {
        format: 1,
        dry_run: false,
        scored: scored.len() as u64,
        skipped_no_contact: group(conn, "no contact").len() as u64,
        skipped_closed: group(conn, "closed").len() as u64,
        newly_sales_ready: 0,
        no_longer_sales_ready: 0,
        rows_written: rows.len() as u64,
        leads_updated: 0,
        models,
    };
    let mut leads = Vec::new();
    for (id, score, ready) in before {
        let Some(&(new_score, new_ready)) = best.get(&id) else {
            leads.push((id, score, ready));
            continue;
        };
        let was_ready = ready == Some(true);
        report.newly_sales_ready += u64::from(new_ready && !was_ready);
        report.no_longer_sales_ready += u64::from(!new_ready && was_ready);
        report.leads_updated += u64::from(score != Some(new_score) || ready != Some(new_ready));
        leads.push((id, Some(new_score), Some(new_ready)));
    }
    Ok(Outcome {
        report,
        rows,
        leads,
    })
}

/// Renders the rows where two outcomes differ.
fn differences(a: &Outcome, b: &Outcome) -> String {
    let mut out = String::new();
    if a.report != b.report {
        out.push_str(&format!("reports:\n  {:?}\n  {:?}\n", a.report, b.report));
    }
    let rows_a: BTreeSet<_> = a.rows.iter().collect();
    let rows_b: BTreeSet<_> = b.rows.iter().collect();
    for row in rows_a.symmetric_difference(&rows_b) {
        let side = if rows_a.contains(row) {
            "first only"
        } else {
            "second only"
        };
        out.push_str(&format!("lead_score row, {side}: {row:?}\n"));
    }
    for (x, y) in a.leads.iter().zip(&b.leads) {
        if x != y {
            out.push_str(&format!("lead: {x:?} vs {y:?}\n"));
        }
    }
    if a.leads.len() != b.leads.len() {
        out.push_str("different numbers of leads\n");
    }
    out
}

/// Scores one model file every way on `data`; `Ok(false)` when an integer
/// overflow stopped it (in every engine's own words).
fn check_file(
    schema: &Schema,
    data: &DataSet,
    base: &Connection,
    file: &GModelFile,
    turn: usize,
    pg: Option<&mut PgCopy>,
) -> Result<bool, String> {
    let text = file.render();
    let models = segql::scoring::parse_and_check(&text, schema).unwrap_or_else(|errors| {
        let errors: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
        panic!(
            "a generated model file does not check (a generator bug):\n{}\n{text}",
            errors.join("\n")
        )
    });
    let mut outcomes = match sqlite_outcomes(schema, data, &models, turn) {
        Ok(outcomes) => outcomes,
        Err(e) if is_overflow(&e) => return Ok(false),
        Err(e) => return Err(e),
    };
    if let Some(pg) = pg {
        match pg.outcome(schema, &models, turn) {
            Ok(outcome) => outcomes.push(("postgres", outcome)),
            Err(e) if is_overflow(&e) => return Ok(false),
            Err(e) => return Err(e),
        }
    }
    let expected = match oracle(base, schema, file) {
        Ok(expected) => expected,
        Err(e) if is_overflow(&e) => return Ok(false),
        Err(e) => return Err(e),
    };
    for (label, outcome) in &outcomes {
        if outcome != &expected {
            return Err(format!(
                "{label} differs from the oracle (first: oracle, second: {label}):\n{}",
                differences(&expected, outcome)
            ));
        }
    }
    if let Some((lead, ..)) = expected.rows.first() {
        explained_as_scored(base, schema, file, &models, lead, &expected.rows)?;
    }
    Ok(true)
}

/// `score --explain` of one scored lead, by both engines, must give the
/// scores written, and each rule's points must follow from its count.
fn explained_as_scored(
    conn: &Connection,
    schema: &Schema,
    file: &GModelFile,
    models: &[Model],
    lead: &str,
    rows: &[ScoreRow],
) -> Result<(), String> {
    let id: uuid::Uuid = lead.parse().map_err(|e| format!("lead id {lead}: {e}"))?;
    for (label, engine) in [
        (
            "sqlite",
            segql::Engine::Database(&mut SqliteBackend::new(conn)),
        ),
        (
            "memory",
            segql::Engine::MemoryFrom(&mut SqliteBackend::new(conn)),
        ),
    ] {
        let (scored, explanations) =
            segql::scoring::explain(engine, schema, models, id, pools::now())
                .map_err(|e| format!("explain ({label}) of {lead}: {e}"))?;
        if scored != segql::scoring::Scored::Yes {
            return Err(format!(
                "explain ({label}): {lead} is scored, not {scored:?}"
            ));
        }
        for (model, explanation) in file.models.iter().zip(&explanations) {
            let row = rows
                .iter()
                .find(|r| r.0 == lead && r.1 == model.name)
                .ok_or_else(|| format!("no row of {lead} under {}", model.name))?;
            let rule_points: Vec<i64> = model
                .rules
                .iter()
                .zip(&explanation.rules)
                .map(|(rule, e)| rule.points_for(e.count))
                .collect();
            let given: Vec<i64> = explanation.rules.iter().map(|e| e.points).collect();
            let shown = (
                explanation.model.as_str(),
                explanation.score,
                explanation.grade.as_ref(),
                explanation.sales_ready,
            );
            if shown != (row.1.as_str(), row.2, row.3.as_ref(), row.4)
                || rule_points != given
                || explanation.total != given.iter().sum::<i64>()
            {
                return Err(format!(
                    "explain ({label}) of {lead} says\n{explanation:?}\nbut scoring wrote {row:?}"
                ));
            }
        }
        if explanations.len() != file.models.len() {
            return Err(format!("explain ({label}): {} models", explanations.len()));
        }
    }
    Ok(())
}

/// Threads the data sets are shared among (the machines have two cores).
const WORKERS: usize = 2;

/// `data_sets` data sets with `MODELS_PER_DATA_SET` model files each,
/// shared among `WORKERS` threads; (files checked, files drawn again after
/// an overflow, scored leads summed over the files).
fn run(data_sets: usize, pg: Option<&TestPg>, seed: u64) -> (usize, usize, u64) {
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..WORKERS)
            .map(|worker| scope.spawn(move || run_share(worker, data_sets, pg, seed)))
            .collect();
        workers
            .into_iter()
            .map(|w| {
                w.join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .fold((0, 0, 0), |a, b| (a.0 + b.0, a.1 + b.1, a.2 + b.2))
    })
}

/// The data sets `worker`, `worker + WORKERS`, ... of a run. Each data set
/// and its model files are drawn from a runner seeded by `seed` and the
/// data set's number, so a seed replays the same cases however the threads
/// are scheduled.
fn run_share(
    worker: usize,
    data_sets: usize,
    pg: Option<&TestPg>,
    seed: u64,
) -> (usize, usize, u64) {
    let schema = segql::schema::crm_schema();
    let mut generator = QueryGen::new(schema.clone());
    let files = model_file_strategy(&mut generator);
    let data = gen_data::data_set_strategy(&schema);
    let (mut checked, mut overflows, mut leads) = (0, 0, 0);
    for index in (worker..data_sets).step_by(WORKERS) {
        let mut runner = gen_query::seeded_runner(
            seed.wrapping_add((index as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)),
        );
        let raw = data
            .new_tree(&mut runner)
            .expect("data sets never reject")
            .current();
        let mut data_set = gen_data::resolve(&schema, &raw);
        if pg.is_some() {
            data_set = data_set.without_nul();
        }
        let base = fresh_sqlite(&schema, &data_set);
        let mut copy = pg.map(|pg| PgCopy::new(pg, &schema, &data_set, worker));
        let (mut done, mut turn) = (0, 0);
        while done < MODELS_PER_DATA_SET {
            let file = files
                .new_tree(&mut runner)
                .expect("model files never reject")
                .current();
            let text = file.render();
            if pg.is_some() && text.contains("\\u{0}") {
                continue;
            }
            turn += 1;
            match check_file(&schema, &data_set, &base, &file, turn, copy.as_mut()) {
                Ok(true) => {
                    done += 1;
                    checked += 1;
                    leads += group(&base, "scored").len() as u64;
                }
                Ok(false) => overflows += 1,
                Err(report) => panic!(
                    "seed {seed} (SEGQL_DIFF_SEED={seed} replays it), data set {index}: {report}\n\
                     --- model file ---\n{text}\n--- data ---\n{}",
                    data_set.to_sql()
                ),
            }
        }
    }
    (checked, overflows, leads)
}

#[test]
fn scoring_agrees_between_sqlite_memory_and_the_oracle() {
    let seed = seed();
    let started = std::time::Instant::now();
    let (checked, overflows, leads) = run(SQLITE_DATA_SETS, None, seed);
    println!(
        "scoring: {checked} model files on {SQLITE_DATA_SETS} data sets ({leads} scored leads, \
         {overflows} files drawn again after an integer overflow) in {:?} (seed {seed})",
        started.elapsed()
    );
    assert_eq!(checked, SQLITE_DATA_SETS * MODELS_PER_DATA_SET);
    assert!(checked >= 2000);
    assert!(
        overflows * 20 < checked,
        "{overflows} model files overflowed: the skip would hide too much"
    );
    assert!(
        leads > 0,
        "no lead was ever scored: does the data still link leads to contacts?"
    );
}

#[test]
fn scoring_agrees_on_postgres() {
    let Some(pg) = TestPg::start() else {
        return;
    };
    let seed = seed().wrapping_add(3);
    let started = std::time::Instant::now();
    let (checked, overflows, leads) = run(POSTGRES_DATA_SETS, Some(&pg), seed);
    println!(
        "scoring on PostgreSQL: {checked} model files on {POSTGRES_DATA_SETS} data sets ({leads} \
         scored leads, {overflows} drawn again after an integer overflow) in {:?} (seed {seed})",
        started.elapsed()
    );
    assert_eq!(checked, POSTGRES_DATA_SETS * MODELS_PER_DATA_SET);
    assert!(checked >= 200);
    assert!(
        overflows * 20 < checked,
        "{overflows} model files overflowed: the skip would hide too much"
    );
}

#[test]
fn generated_model_files_cover_every_form() {
    let schema = segql::schema::crm_schema();
    let mut generator = QueryGen::new(schema);
    let files = model_file_strategy(&mut generator);
    let mut runner = gen_query::seeded_runner(5);
    let mut text = String::new();
    let mut seen = [false; 6];
    for _ in 0..300 {
        let file = files
            .new_tree(&mut runner)
            .expect("never rejects")
            .current();
        text.push_str(&file.render().to_lowercase());
        seen[0] |= file.models.len() > 1;
        for m in &file.models {
            seen[1] |= m.grades.is_empty() && m.max_score.is_none();
            seen[2] |= m.grades.len() >= 3;
            seen[3] |= m.rules.iter().any(|r| r.points == 0);
            let subtract: i64 = m
                .rules
                .iter()
                .filter(|r| r.subtract)
                .map(|r| r.points)
                .sum();
            let add: i64 = m
                .rules
                .iter()
                .filter(|r| !r.subtract)
                .map(|r| r.points)
                .sum();
            seen[4] |= subtract > add;
            seen[5] |= m
                .rules
                .iter()
                .any(|r| matches!(&r.kind, GRuleKind::Per(c, _) if c.matches('.').count() >= 2));
        }
    }
    assert_eq!(
        seen, [true; 6],
        "[several models, no grades nor max, 3+ grades, 0 points, subtract-heavy, 3-hop chain]"
    );
    for needle in [
        "add ",
        "subtract ",
        " if ",
        " per ",
        " up to ",
        "max score",
        "grades ",
        "sales ready at",
        "contact.interaction",
        "account",
        " via ",
        "now",
    ] {
        assert!(
            text.contains(needle),
            "no generated model file contains {needle:?}"
        );
    }
}
