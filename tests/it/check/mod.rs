//! AST to checked plan: fixtures, properties, printed plans.

mod fixtures;
mod plan_display;
mod props;
