//! Plan to SQL: snapshots per dialect, semantics on SQLite and PostgreSQL,
//! agreement with the memory engine, the Spark dialect's spellings.

mod aggregates;
mod aggregates_random;
mod agrees_with_eval;
mod fixtures;
mod injection;
mod pg_plans;
mod plans;
mod root_or_counts;
mod scoring_shape;
mod semantics;
mod spark;
