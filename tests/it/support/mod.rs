//! Shared test support: the PostgreSQL harness, the operation tests'
//! fixtures and the parser tests' span checks. The benchmarks include this
//! module too and use only part of it, so unused items are expected here.
#![allow(dead_code)]

pub mod fixture;
pub mod hostile;
pub mod ops;
pub mod parse;
pub mod pg;
