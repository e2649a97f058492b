//! Text to AST: fixtures, spans and properties of the parser and formatter.

mod comments;
mod comments_fixtures;
mod descent;
mod fixtures;
mod model_comments;
mod models;
mod props;
