//! AST to checked plan: fixtures, properties, printed plans.

mod all_errors;
mod error_kinds;
mod fixtures;
mod models;
mod plan_display;
mod props;
mod segment_names;
