//! Shared test support. Each test binary includes it with `mod support;` and
//! uses only part of it, so unused items are expected here.
#![allow(dead_code)]

pub mod pg;
