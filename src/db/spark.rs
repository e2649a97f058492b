//! Spark (the [`sql::Spark`] dialect), registered for `compile --dialect
//! spark` before segql can run anything on it: its `--db` specs
//! (`sc://HOST:PORT`, Spark Connect, or `spark://HOST:PORT`, a standalone
//! master) are recognised, so that they get a clear error saying what to do
//! instead, not an attempt to open them as SQLite files.

use super::{Access, Backend, Driver};
use crate::error::{Error, Result};
use crate::sql;

pub(super) const DRIVER: Driver = Driver {
    name: "spark",
    dialect: &sql::Spark,
    schemes: &["sc://", "spark://"],
    open,
};

/// Always [`Error::Unavailable`]: segql has no Spark client yet.
fn open(spec: &str, _access: Access) -> Result<Box<dyn Backend>> {
    Err(Error::Unavailable {
        message: format!(
            "cannot open '{spec}': segql compiles for Spark but cannot run on it yet; \
             compile the query with `segql compile --dialect spark --format json` and run \
             its SQL in a Spark 4 session with spark.sql(sql, args), binding params[0] as \
             \"p1\", params[1] as \"p2\" and so on, the session time zone set to UTC"
        ),
    })
}
