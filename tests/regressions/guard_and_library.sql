INSERT INTO contact (id, role, consent_level, do_not_email, do_not_bulk_email) VALUES ('00000000-0000-0000-0000-000000000001', 1, NULL, 0, 0);
INSERT INTO contact (id, role, consent_level, do_not_email, do_not_bulk_email) VALUES ('00000000-0000-0000-0000-000000000002', 1, NULL, 1, 0);
INSERT INTO contact (id, role, consent_level, do_not_email, do_not_bulk_email) VALUES ('00000000-0000-0000-0000-000000000003', 2, 4, 0, 0);
INSERT INTO contact (id, role, consent_level, do_not_email, do_not_bulk_email) VALUES ('00000000-0000-0000-0000-000000000004', 2, 6, 0, 1);
INSERT INTO contact (id, role, consent_level, do_not_email, do_not_bulk_email) VALUES ('00000000-0000-0000-0000-000000000005', 1, 3, 0, 0);
INSERT INTO contact (id, role, consent_level, do_not_email, do_not_bulk_email) VALUES ('00000000-0000-0000-0000-000000000006', NULL, NULL, 0, 0);
INSERT INTO subscription (id, contact_id) VALUES ('00000000-0000-0000-0000-000000000101', '00000000-0000-0000-0000-000000000001');
INSERT INTO subscription (id, contact_id) VALUES ('00000000-0000-0000-0000-000000000102', '00000000-0000-0000-0000-000000000002');
