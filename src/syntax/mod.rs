//! Text to AST: the pest grammar (`grammar/segql.pest`) behind a thin wall,
//! and the canonical formatter that turns an AST back into text.

pub mod ast;
