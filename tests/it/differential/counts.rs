//! `explain --counts` on every engine: for generated queries on generated
//! data, the counted tree is the same from SQLite (one `COUNT` per node and
//! prefix), the memory engine (one pass over its bitmaps, on a full store
//! and on one loaded for the plan) and PostgreSQL; and it is consistent with
//! the segment: the root's count is the segment's size, an `and`'s funnel
//! only shrinks and ends at the `and`'s count, an `or`'s gains add up to
//! the `or`'s count, and each node's count is the size of its own segment.

use proptest::strategy::{Strategy, ValueTree};
use segql::db::{PostgresBackend, SqliteBackend};
use segql::inside::{CountNode, Counts};
use segql::plan::{Plan, PlanExpr};
use segql::Engine;

use super::engines::{self, Loaded};
use super::{gen_data, gen_query, load_into, parse_library, seed};
use crate::support::pg::TestPg;

/// Checks the counts of `node` (for `expr` on `entity`) against the SQLite
/// segment of `expr` and its own operands' funnel or gains.
fn consistent(env: &Loaded, entity: &str, expr: &PlanExpr, node: &CountNode) -> Result<(), String> {
    if node.entity != entity {
        return Err(format!(
            "node `{}` is labelled {}, not {entity}",
            node.node, node.entity
        ));
    }
    let own = Plan {
        entity: entity.to_string(),
        filter: expr.clone(),
    };
    let size = engines::sqlite_ids(env, &own)?.len() as u64;
    if node.count != size {
        return Err(format!(
            "node `{}` counts {}, its segment has {size}",
            node.node, node.count
        ));
    }
    let below = segql::eval::count_children(expr, entity);
    if below.len() != node.children.len() {
        return Err(format!("node `{}`: wrong number of children", node.node));
    }
    match expr {
        PlanExpr::And(_) => {
            let funnel: Vec<u64> = node.children.iter().filter_map(|c| c.remaining).collect();
            let shrinks = funnel.windows(2).all(|w| w[0] >= w[1]);
            if funnel.len() != node.children.len()
                || !shrinks
                || funnel.last().is_some_and(|&last| last != node.count)
            {
                return Err(format!(
                    "`and` funnel {funnel:?} for a count of {}",
                    node.count
                ));
            }
        }
        PlanExpr::Or(_) => {
            let gains: Vec<u64> = node.children.iter().filter_map(|c| c.adds).collect();
            if gains.len() != node.children.len()
                || (!gains.is_empty() && gains.iter().sum::<u64>() != node.count)
            {
                return Err(format!(
                    "`or` gains {gains:?} for a count of {}",
                    node.count
                ));
            }
        }
        _ => {
            if node
                .children
                .iter()
                .any(|c| c.remaining.is_some() || c.adds.is_some())
            {
                return Err(format!("node `{}`: a funnel outside and/or", node.node));
            }
        }
    }
    for ((below_entity, child), child_node) in below.into_iter().zip(&node.children) {
        consistent(env, below_entity, child, child_node)?;
    }
    Ok(())
}

/// Every engine's counts of `plan`, compared and checked.
fn check(env: &Loaded, plan: &Plan) -> Result<(), String> {
    let (schema, now) = (env.schema, env.now);
    let sqlite = segql::counts(
        plan,
        Engine::Database(&mut SqliteBackend::new(&env.sqlite)),
        schema,
        now,
    )
    .map_err(|e| format!("sqlite: {e}"))?;
    let mut others: Vec<(&str, Counts)> = vec![
        (
            "memory",
            segql::counts(plan, Engine::Memory(&env.store), schema, now)
                .map_err(|e| format!("memory: {e}"))?,
        ),
        (
            "memory (loaded for the plan)",
            segql::counts(
                plan,
                Engine::MemoryFrom(&mut SqliteBackend::new(&env.sqlite)),
                schema,
                now,
            )
            .map_err(|e| format!("memory (loaded): {e}"))?,
        ),
    ];
    if let Some(pg) = &env.pg {
        let mut client = pg.borrow_mut();
        let counted = segql::counts(
            plan,
            Engine::Database(&mut PostgresBackend::new(&mut *client)),
            schema,
            now,
        )
        .map_err(|e| format!("postgres: {e}"))?;
        others.push(("postgres", counted));
    }
    for (name, counted) in &others {
        if *counted != sqlite {
            return Err(format!(
                "{name} differs from SQLite:\n{counted:#?}\nvs\n{sqlite:#?}"
            ));
        }
    }
    let entity = schema.entity(&plan.entity).ok_or("no such entity")?;
    let total = engines::all_keys(&env.sqlite, &entity.table, &entity.key)?.len() as u64;
    if sqlite.total != total {
        return Err(format!("total {} of {total} records", sqlite.total));
    }
    consistent(env, &plan.entity, &plan.filter, &sqlite.tree)
}

/// `data_sets` data sets with `queries` queries each; the queries checked.
fn run(data_sets: usize, queries: usize, pg: Option<&TestPg>, seed: u64) -> usize {
    let schema = segql::schema::crm_schema();
    let mut generator = gen_query::QueryGen::new(schema.clone());
    let query_strategy = generator.query();
    let libraries = generator.library();
    let data = gen_data::data_set_strategy(&schema);
    let mut runner = gen_query::seeded_runner(seed);
    let mut checked = 0;
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
        let env = load_into(&schema, &data_set, pg, "counts_data")
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
            match check(&env, &plans.optimized) {
                Ok(()) => {}
                // Integer sums beyond i64 are errors in every engine, each
                // in its own words (see the differential suite).
                Err(report)
                    if report.contains("64-bit integer")
                        || report.contains("overflow")
                        || report.contains("out of range") => {}
                Err(report) => panic!(
                    "seed {seed} (SEGQL_DIFF_SEED={seed}): {report}\nquery: {text}\nplan: {}\ndata:\n{}",
                    plans.optimized,
                    data_set.to_sql()
                ),
            }
            checked += 1;
        }
    }
    checked
}

#[test]
fn counts_agree_between_sqlite_and_memory() {
    let seed = seed();
    let checked = run(20, 15, None, seed);
    println!("counts: {checked} queries (seed {seed})");
    assert_eq!(checked, 20 * 15);
}

#[test]
fn counts_agree_with_postgres() {
    let Some(pg) = TestPg::start() else {
        return;
    };
    let seed = seed().wrapping_add(4);
    let checked = run(4, 10, Some(&pg), seed);
    println!("counts on PostgreSQL: {checked} queries (seed {seed})");
    assert_eq!(checked, 4 * 10);
}
