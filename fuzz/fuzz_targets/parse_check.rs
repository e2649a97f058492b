//! Any UTF-8 text through parse, check and optimize against the CRM schema:
//! errors are fine, panics are not.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use segql::schema::{crm_schema, Schema};

fn schema() -> &'static Schema {
    static SCHEMA: OnceLock<Schema> = OnceLock::new();
    SCHEMA.get_or_init(crm_schema)
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = segql::plan(text, &segql::Options::new(schema()));
});
