//! AST to checked plan: fixtures, properties, printed plans.

mod all_errors;
mod error_kinds;
mod fixtures;
mod plan_display;
mod props;
