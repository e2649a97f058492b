//! Text to AST: fixtures, spans and properties of the parser and formatter.

mod fixtures;
mod models;
mod props;
