-- The planner statistics of the 1M-contact demo database, as its own
-- `ANALYZE` wrote them (`PRAGMA analysis_limit = 1000; ANALYZE;`, in
-- src/demo/mod.rs; that sampling writes no sqlite_stat4). Made with:
--   segql demo --out demo-1000000.db --contacts 1000000 --seed 1 --now 2025-01-01T00:00:00Z
--   sqlite3 demo-1000000.db "SELECT tbl, idx, stat FROM sqlite_stat1"
-- 50,000 accounts, 1,000,000 contacts, 1,514,846 leads (75,000 orphaned),
-- 9,997,838 interactions, 849,829 subscriptions; 3.1 GB.
-- A full ANALYZE of the same file (no analysis_limit) finds the same row
-- counts and about half as many rows per key (contact_account_id_idx 20,
-- interaction_contact_id_idx 11, lead_account_id_idx 31, lead_contact_id_idx
-- 2, subscription_contact_id_idx 2); the plan test passes with either, and
-- this file keeps what the demo ships.
-- tests/it/sql/plans.rs loads it into a small demo database so that SQLite
-- plans queries there as it would at 1M. To refresh it after a change to
-- the demo's layout or data, run the two commands above and write the rows
-- below again.
DELETE FROM sqlite_stat1;
INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES ('account', 'account_id_key', '50000 1');
INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES ('contact', 'contact_account_id_idx', '1000000 33');
INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES ('contact', 'contact_id_key', '1000000 1');
INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES ('interaction', 'interaction_contact_id_idx', '9997838 21');
INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES ('interaction', 'interaction_id_key', '9997838 1');
INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES ('lead', 'lead_account_id_idx', '1514846 36');
INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES ('lead', 'lead_contact_id_idx', '1514846 4');
INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES ('lead', 'lead_id_key', '1514846 1');
INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES ('subscription', 'subscription_contact_id_idx', '849829 4');
INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES ('subscription', 'subscription_id_key', '849829 1');
