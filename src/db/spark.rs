//! Spark (the [`sql::Spark`] dialect): `--db sc://HOST:PORT` runs segments
//! through Spark Connect, Spark 4's client protocol, with Apache's Rust
//! client (`src/db/spark_connect.rs`, the cargo feature `spark`). segql
//! only reads there: the commands that change data refuse a Spark spec, and
//! so does a build without the feature, each saying what to do instead. A
//! standalone master's `spark://HOST:PORT` is recognised only to be refused
//! with the way to its Connect server.

use super::{Access, Backend, Driver};
use crate::error::{Error, Result};
use crate::sql;

pub(super) const DRIVER: Driver = Driver {
    name: "spark",
    dialect: &sql::Spark,
    schemes: &["sc://", "spark://"],
    open,
};

/// What a user does where segql cannot run a segment on Spark itself.
const RUN_COMPILED: &str = "compile the query with `segql compile --dialect spark \
     --format json` and run its SQL in a Spark 4 session with spark.sql(sql, args), binding \
     params[0] as \"p1\", params[1] as \"p2\" and so on, the session time zone set to UTC";

fn open(spec: &str, access: Access) -> Result<Box<dyn Backend>> {
    let shown = redact_token(spec);
    if spec.starts_with("spark://") {
        return Err(Error::Unavailable {
            message: format!(
                "cannot open '{shown}': that is a Spark standalone master, and segql talks to \
                 Spark Connect: give its server's sc://HOST:PORT (port 15002 by default; \
                 `sbin/start-connect-server.sh --master {shown}` starts one); or {RUN_COMPILED}"
            ),
        });
    }
    if access == Access::ReadWrite {
        return Err(read_only(&shown));
    }
    connect(spec, &shown)
}

#[cfg(feature = "spark")]
fn connect(spec: &str, _shown: &str) -> Result<Box<dyn Backend>> {
    Ok(Box::new(super::spark_connect::SparkBackend::connect(spec)?))
}

#[cfg(not(feature = "spark"))]
fn connect(_spec: &str, shown: &str) -> Result<Box<dyn Backend>> {
    Err(Error::Unavailable {
        message: format!(
            "cannot open '{shown}': this segql was built without Spark Connect (the cargo \
             feature `spark`; `cargo install segql --features spark`, which needs protoc); \
             or {RUN_COMPILED}"
        ),
    })
}

/// The refusal of a command that changes data.
pub(super) fn read_only(shown: &str) -> Error {
    Error::Unavailable {
        message: format!(
            "cannot change data on '{shown}': segql only reads from Spark (run, explain \
             --counts, why); update, link-orphans, score, import-leads and view work on a \
             SQLite file or a postgresql:// database"
        ),
    }
}

/// A Spark Connect URL fit for a message: the value of a `token=` parameter
/// (`sc://host:443/;use_ssl=true;token=SECRET`) replaced by `***`.
pub(super) fn redact_token(spec: &str) -> String {
    let mut out = String::with_capacity(spec.len());
    for (i, part) in spec.split(';').enumerate() {
        if i > 0 {
            out.push(';');
        }
        match part.split_once('=') {
            Some((key, _)) if i > 0 && key.eq_ignore_ascii_case("token") => {
                out.push_str(key);
                out.push_str("=***");
            }
            _ => out.push_str(part),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_left_out_of_messages() {
        assert_eq!(
            redact_token("sc://h:443/;use_ssl=true;token=abc;user_id=u"),
            "sc://h:443/;use_ssl=true;token=***;user_id=u"
        );
        assert_eq!(redact_token("sc://127.0.0.1:15002"), "sc://127.0.0.1:15002");
    }

    #[test]
    fn writing_and_standalone_masters_are_refused_before_connecting() {
        let err = open("sc://127.0.0.1:1/;token=s", Access::ReadWrite)
            .err()
            .unwrap();
        let message = err.to_string();
        assert!(message.contains("only reads from Spark"), "{message}");
        assert!(!message.contains("token=s"), "{message}");
        let err = open("spark://127.0.0.1:7077", Access::ReadOnly)
            .err()
            .unwrap();
        assert!(err.to_string().contains("sc://HOST:PORT"), "{err}");
    }
}
