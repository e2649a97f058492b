//! How often each optimizer rule fires over a fixed corpus of generated
//! segments, and a demand that every rule fires at least once.
//!
//! The corpus comes from the differential tests' generator (`differential/
//! gen_query.rs`): well-typed queries over the built-in CRM schema, with a
//! segment library and the `email` guard, drawn from a fixed seed so the
//! figures are the same on every run. Each query is parsed, checked and
//! optimized with a trace; the firings are tallied per rule and printed
//! (`cargo test --test it optimize::firings -- --nocapture` shows the table).
//!
//! The list of rules comes from the optimizer itself, so a new rule the
//! generator never exercises fails here until the corpus reaches it. The
//! same corpus also checks that optimizing is idempotent on real-schema
//! plans (the property tests check it on their own made-up schema).

use std::collections::BTreeMap;

use proptest::strategy::{Strategy, ValueTree};
use segql::optimize::{optimize, optimize_traced, rule_names};
use segql::plan::Plan;
use segql::schema::Schema;
use segql::syntax::ast::Library;

use crate::differential::gen_query;

/// Generated queries in the corpus.
const PLANS: usize = 3000;

/// Queries drawn per library, as the differential run draws them per data
/// set: libraries vary along the corpus.
const QUERIES_PER_LIBRARY: usize = 50;

/// The corpus seed. Changing it changes the printed figures, not whether
/// the test passes (every rule fires many times over).
const SEED: u64 = 6;

fn parse_library(schema: &Schema, text: &str) -> Library {
    let library = segql::syntax::parse_library(text)
        .unwrap_or_else(|e| panic!("a generated library does not parse: {e}\n{text}"));
    segql::check::check_library(&library, schema)
        .unwrap_or_else(|e| panic!("a generated library does not check: {e}\n{text}"));
    library
}

/// The corpus: every generated query checked into its plan.
fn corpus() -> Vec<Plan> {
    let schema = segql::schema::crm_schema();
    let mut generator = gen_query::QueryGen::new(schema.clone());
    let queries = generator.query();
    let libraries = generator.library();
    let mut runner = gen_query::seeded_runner(SEED);
    let mut plans = Vec::with_capacity(PLANS);
    while plans.len() < PLANS {
        let library = libraries
            .new_tree(&mut runner)
            .expect("libraries never reject")
            .current();
        let library = parse_library(&schema, &library.render());
        for _ in 0..QUERIES_PER_LIBRARY.min(PLANS - plans.len()) {
            let query = queries
                .new_tree(&mut runner)
                .expect("queries never reject")
                .current();
            let text = query.render();
            let parsed = segql::syntax::parse_query(&text)
                .unwrap_or_else(|e| panic!("a generated query does not parse: {e}\n{text}"));
            let guards = query.guards();
            let ctx = segql::Options {
                schema: &schema,
                library: Some(&library),
                guards: &guards,
                optimize: true,
            };
            let plan = segql::check::check(&parsed, &ctx)
                .unwrap_or_else(|e| panic!("a generated query does not check: {e}\n{text}"));
            plans.push(plan);
        }
    }
    plans
}

/// Firings of one rule: in all, and the number of plans it fired in.
#[derive(Default)]
struct Tally {
    firings: usize,
    plans: usize,
}

#[test]
fn every_rule_fires_over_the_generated_corpus() {
    let names = rule_names();
    let mut tallies: BTreeMap<&str, Tally> = names.iter().map(|&n| (n, Tally::default())).collect();
    let mut changed_plans = 0;
    let plans = corpus();
    for plan in &plans {
        let (optimized, firings) = optimize_traced(plan.clone());
        if !firings.is_empty() {
            changed_plans += 1;
        }
        let mut fired_here: Vec<&str> = Vec::new();
        for firing in &firings {
            let tally = tallies
                .get_mut(firing.rule)
                .unwrap_or_else(|| panic!("{} fired but is not among {names:?}", firing.rule));
            tally.firings += 1;
            if !fired_here.contains(&firing.rule) {
                fired_here.push(firing.rule);
                tally.plans += 1;
            }
        }
        let again = optimize(optimized.clone());
        assert_eq!(
            again, optimized,
            "optimizing twice changed the plan\nfirst: {optimized}\nsecond: {again}\ninput: {plan}"
        );
    }

    println!(
        "rule firings over {} generated plans (seed {SEED}; {changed_plans} changed):",
        plans.len()
    );
    println!("{:<24} {:>8} {:>8}", "rule", "firings", "plans");
    // In the order the driver tries them.
    for name in &names {
        let tally = &tallies[name];
        println!("{name:<24} {:>8} {:>8}", tally.firings, tally.plans);
    }
    let never: Vec<&str> = names
        .iter()
        .copied()
        .filter(|name| tallies[name].firings == 0)
        .collect();
    assert!(
        never.is_empty(),
        "never fired over the generated corpus: {never:?}"
    );
}
