//! `segql fmt` keeps the comments of a query, a library file or a scoring
//! model file.

use std::process::{Command, Output};

fn segql(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_segql"))
        .args(args)
        .output()
        .expect("segql runs")
}

#[test]
fn fmt_keeps_the_comments_of_a_library_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("segments.segql");
    std::fs::write(
        &file,
        "# Segments of the sales team\r\n\r\n\
         # VIP segment for Q3\r\n\
         segment vip = CONTACT where role = \"decision maker\" # deciders\r\n\
         segment open = lead where status in [\"Open\", # new ones\r\n\"Qualified\"]\r\n",
    )
    .expect("write");
    let o = segql(&["fmt", "-f", file.to_str().expect("utf8")]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "# Segments of the sales team\n\n\
         # VIP segment for Q3\n\
         segment vip = contact where role = \"Decision Maker\" # deciders\n\n\
         segment open = lead where\n  status in [\n    \"Open\", # new ones\n    \"Qualified\",\n  ]\n"
    );
}

#[test]
fn fmt_keeps_the_comments_of_a_query() {
    let o = segql(&["fmt", "contact # everyone\nwhere x # with x\n# done"]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "contact # everyone\nwhere x # with x\n# done\n"
    );
}

#[test]
fn fmt_keeps_the_comments_of_a_model_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("scoring.segql");
    std::fs::write(
        &file,
        "# Lead scoring\r\n\r\n\
         MODEL engagement ON lead {\r\n\
         ADD 20 IF source = \"Trade Show\" # events pay off\r\n\
         # Cap the total.\r\n\
         max score 100\r\n\
         sales ready at 40 # the sales team asked\r\n\
         }\r\n\
         # more models to come\r\n",
    )
    .expect("write");
    let o = segql(&["fmt", "-f", file.to_str().expect("utf8")]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // The settings go first, each with its comments.
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "# Lead scoring\n\n\
         model engagement on lead {\n  \
         sales ready at 40 # the sales team asked\n  \
         # Cap the total.\n  \
         max score 100\n  \
         add 20 if source = \"Trade Show\" # events pay off\n\
         }\n\n\
         # more models to come\n"
    );
}
