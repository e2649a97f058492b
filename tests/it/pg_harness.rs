//! The PostgreSQL test harness itself: it starts, isolates databases, and its
//! URL is one the postgres client (and so the CLI) accepts.

use crate::support::pg::TestPg;

#[test]
fn runs_a_query() {
    let Some(pg) = TestPg::start() else { return };
    let mut client = pg.client();
    let row = client.query_one("SELECT 1::int4 + 1", &[]).unwrap();
    assert_eq!(row.get::<_, i32>(0), 2);
    let row = client
        .query_one("SELECT pg_encoding_to_char(encoding) FROM pg_database WHERE datname = current_database()", &[])
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "UTF8");
}

#[test]
fn url_connects_to_the_same_database() {
    let Some(pg) = TestPg::start() else { return };
    let mut via_url = postgres::Client::connect(&pg.url(), postgres::NoTls).unwrap();
    let name: String = via_url
        .query_one("SELECT current_database()::text", &[])
        .unwrap()
        .get(0);
    assert_eq!(name, pg.dbname());
}

#[test]
fn databases_are_isolated_and_fresh() {
    let (Some(a), Some(b)) = (TestPg::start(), TestPg::start()) else {
        return;
    };
    assert_ne!(a.dbname(), b.dbname());
    a.client().batch_execute("CREATE TABLE t (x int)").unwrap();
    let in_b: i64 = b
        .client()
        .query_one("SELECT count(*) FROM pg_tables WHERE tablename = 't'", &[])
        .unwrap()
        .get(0);
    assert_eq!(in_b, 0);

    let mut fresh = a.fresh_database("harness_fresh");
    fresh.batch_execute("CREATE TABLE u (x int)").unwrap();
    drop(fresh);
    let mut again = a.fresh_database("harness_fresh");
    let tables: i64 = again
        .query_one("SELECT count(*) FROM pg_tables WHERE tablename = 'u'", &[])
        .unwrap()
        .get(0);
    assert_eq!(tables, 0, "fresh_database must start empty");
}

#[test]
fn threads_share_one_cluster() {
    let handles: Vec<_> = (0..4)
        .map(|i| {
            std::thread::spawn(move || {
                let pg = TestPg::start()?;
                let mut c = pg.client();
                let v: i32 = c.query_one("SELECT $1::int4", &[&i]).unwrap().get(0);
                Some((v, pg.socket_dir().to_path_buf()))
            })
        })
        .collect();
    let results: Vec<_> = handles
        .into_iter()
        .filter_map(|h| h.join().unwrap())
        .collect();
    for (i, (v, dir)) in results.iter().enumerate() {
        assert_eq!(*v, i as i32);
        assert_eq!(dir, &results[0].1);
    }
}
