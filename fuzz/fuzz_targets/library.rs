//! Any UTF-8 text as a segment library: parse it, then check every
//! definition against the CRM schema. Errors are fine, panics are not.
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
    if let Ok(library) = segql::syntax::parse_library(text) {
        let _ = segql::check::check_library(&library, schema());
    }
});
