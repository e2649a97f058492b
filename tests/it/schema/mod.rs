//! Schema files: loading, defaults and refusals.

mod file;
