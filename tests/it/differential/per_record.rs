//! Values per record (`segql::per_record`, what lead scoring is built on):
//! for generated queries on generated data, the condition's 0/1 column and
//! the `count(chain)` columns of every count aggregate in the query must be
//! the same from SQLite's one `SELECT`, the memory engine and PostgreSQL,
//! and must agree with the engines' segment answers (`v = 1` exactly for
//! the query's ids; `count >= 1` exactly for `count(chain) >= 1`'s ids).

use proptest::strategy::{Strategy, ValueTree};
use segql::db::SqliteBackend;
use segql::plan::{
    AggregateFn, AggregateTest, CmpOp, Plan, PlanExpr, RecordValue, RecordValues, Test, Value,
};
use segql::Engine;

use super::engines::{self, Loaded};
use super::{gen_data, gen_query, load_into, parse_library, seed};
use crate::support::pg::TestPg;

/// Counts taken from one query at most.
const MAX_COUNTS: usize = 3;

/// The count aggregates of `expr` on its own entity (not those inside
/// `has` filters or hop filters, which count from other records), and each
/// `has` on its own entity as the count of its one hop.
fn counts_on(expr: &PlanExpr, out: &mut Vec<segql::plan::Aggregate>) {
    let mut stack = vec![(expr, true)];
    while let Some((e, at_root)) = stack.pop() {
        match e {
            PlanExpr::Not(inner) => stack.push((inner, at_root)),
            PlanExpr::Segment(segment) => stack.push((&segment.filter, at_root)),
            PlanExpr::And(items) | PlanExpr::Or(items) => {
                stack.extend(items.iter().map(|i| (i, at_root)))
            }
            PlanExpr::Related(r) => {
                // `has R(e)` at the root is a count of one hop too.
                if at_root {
                    out.push(segql::plan::Aggregate {
                        function: AggregateFn::Count,
                        chain: vec![segql::plan::Hop {
                            link: r.link.clone(),
                            filter: (*r.filter).clone(),
                        }],
                        field: None,
                    });
                }
                stack.push((&r.filter, false))
            }
            PlanExpr::Aggregate(t) => {
                if at_root && t.aggregate.function == AggregateFn::Count {
                    out.push(t.aggregate.clone());
                }
                for hop in &t.aggregate.chain {
                    stack.push((&hop.filter, false));
                }
            }
            PlanExpr::Const(_) | PlanExpr::Field(_) => {}
        }
    }
}

/// The plan's condition, and counts from the plan as checked (the
/// optimizer turns `count(..) >= n` into `has at least n`) and optimized.
fn values_of(plans: &engines::Plans) -> Vec<RecordValue> {
    let mut counts = Vec::new();
    counts_on(&plans.plan.filter, &mut counts);
    counts_on(&plans.optimized.filter, &mut counts);
    counts.dedup();
    let plan = &plans.optimized;
    counts.truncate(MAX_COUNTS);
    let mut values = vec![RecordValue::Holds(plan.filter.clone())];
    values.extend(counts.into_iter().map(RecordValue::Count));
    values
}

fn at_least_one(aggregate: &segql::plan::Aggregate, entity: &str) -> Plan {
    Plan {
        entity: entity.to_string(),
        filter: PlanExpr::aggregate(AggregateTest {
            aggregate: aggregate.clone(),
            test: Test::Compare {
                op: CmpOp::Ge,
                value: Value::Integer(1),
            },
        }),
    }
}

/// Compares every engine's values of `plan` on one data set.
fn check(env: &Loaded, plans: &engines::Plans, rows: &PlanExpr) -> Result<usize, String> {
    let values = values_of(plans);
    let plan = &plans.optimized;
    let (schema, now) = (env.schema, env.now);
    let sqlite = segql::per_record(
        &plan.entity,
        rows,
        &values,
        Engine::Database(&mut SqliteBackend::new(&env.sqlite)),
        schema,
        now,
    )
    .map_err(|e| format!("sqlite: {e}"))?;
    let memory = segql::per_record(
        &plan.entity,
        rows,
        &values,
        Engine::Memory(&env.store),
        schema,
        now,
    )
    .map_err(|e| format!("memory: {e}"))?;
    let loaded = segql::per_record(
        &plan.entity,
        rows,
        &values,
        Engine::MemoryFrom(&mut SqliteBackend::new(&env.sqlite)),
        schema,
        now,
    )
    .map_err(|e| format!("memory, loaded for the values: {e}"))?;
    let differ = |name: &str, other: &RecordValues| {
        (other != &sqlite)
            .then(|| format!("{name} differs from SQLite:\n{other:?}\nvs\n{sqlite:?}"))
    };
    if let Some(report) = differ("memory", &memory).or_else(|| differ("memory (loaded)", &loaded)) {
        return Err(report);
    }
    if let Some(pg) = &env.pg {
        let mut client = pg.borrow_mut();
        let postgres = segql::per_record(
            &plan.entity,
            rows,
            &values,
            Engine::Database(&mut segql::db::PostgresBackend::new(&mut *client)),
            schema,
            now,
        )
        .map_err(|e| format!("postgres: {e}"))?;
        drop(client);
        if let Some(report) = differ("PostgreSQL", &postgres) {
            return Err(report);
        }
    }
    // Against the segment answers, over all records.
    if *rows == PlanExpr::Const(true) {
        let ids = engines::sqlite_ids(env, plan)?;
        let holding: Vec<_> = sqlite
            .ids
            .iter()
            .zip(&sqlite.columns[0])
            .filter(|(_, v)| **v == 1)
            .map(|(id, _)| *id)
            .collect();
        if holding != ids {
            return Err(format!(
                "the 0/1 column is not the segment: {holding:?} vs {ids:?}"
            ));
        }
        for (i, value) in values.iter().enumerate().skip(1) {
            let RecordValue::Count(aggregate) = value else {
                continue;
            };
            let reached = engines::sqlite_ids(env, &at_least_one(aggregate, &plan.entity))?;
            let positive: Vec<_> = sqlite
                .ids
                .iter()
                .zip(&sqlite.columns[i])
                .filter(|(_, n)| **n >= 1)
                .map(|(id, _)| *id)
                .collect();
            if positive != reached {
                return Err(format!(
                    "{aggregate}: counts >= 1 {positive:?}, but count(..) >= 1 selects {reached:?}"
                ));
            }
        }
    }
    Ok(values.len() - 1)
}

/// `data_sets` data sets with `queries` queries each; (queries, counts) checked.
fn run(data_sets: usize, queries: usize, pg: Option<&TestPg>, seed: u64) -> (usize, usize) {
    let schema = segql::schema::crm_schema();
    let mut generator = gen_query::QueryGen::new(schema.clone());
    let query_strategy = generator.query();
    let libraries = generator.library();
    let data = gen_data::data_set_strategy(&schema);
    let mut runner = gen_query::seeded_runner(seed);
    let (mut checked, mut counts) = (0, 0);
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
        let parsed =
            parse_library(&schema, &library).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        // Its own database: the differential suite's runs beside it.
        let env = load_into(&schema, &data_set, pg, "per_record_data")
            .unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        let mut done = 0;
        while done < queries {
            let query = query_strategy
                .new_tree(&mut runner)
                .expect("queries never reject")
                .current();
            let text = query.render();
            // PostgreSQL refuses U+0000 in a literal, also in the library
            // segments the query uses (see the differential suite).
            if pg.is_some() && super::nul_reaches(&query, &library) {
                continue;
            }
            let parsed_query = segql::syntax::parse_query(&text).expect("generated queries parse");
            let Ok(plans) = engines::plan(&schema, &parsed_query, Some(&parsed), &query.guards())
            else {
                continue;
            };
            done += 1;
            // All records, then only those of the query itself.
            for rows in [PlanExpr::Const(true), plans.optimized.filter.clone()] {
                match check(&env, &plans, &rows) {
                    Ok(n) => counts += n,
                    // Integer sums beyond i64 are errors in every engine,
                    // each in its own words (see the differential suite).
                    Err(report)
                        if report.contains("64-bit integer")
                            || report.contains("overflow")
                            || report.contains("out of range") => {}
                    Err(report) => panic!(
                        "seed {seed} (SEGQL_DIFF_SEED={seed}): {report}\nquery: {text}\ndata:\n{}",
                        data_set.to_sql()
                    ),
                }
            }
            checked += 1;
        }
    }
    (checked, counts)
}

#[test]
fn per_record_values_agree_between_sqlite_and_memory() {
    let seed = seed();
    let (checked, counts) = run(40, 25, None, seed);
    println!("per-record values: {checked} queries, {counts} count columns (seed {seed})");
    assert_eq!(checked, 40 * 25);
    assert!(
        counts >= 50,
        "only {counts} count columns: does the generator still make counts?"
    );
}

#[test]
fn per_record_values_agree_with_postgres() {
    let Some(pg) = TestPg::start() else {
        return;
    };
    let seed = seed().wrapping_add(2);
    let (checked, counts) = run(6, 25, Some(&pg), seed);
    println!(
        "per-record values on PostgreSQL: {checked} queries, {counts} count columns (seed {seed})"
    );
    assert_eq!(checked, 6 * 25);
}
