INSERT INTO account (id, name) VALUES ('ffffffff-ffff-ffff-ffff-ffffffffffff', NULL);
INSERT INTO account (id, name) VALUES ('80000000-0000-0000-0000-000000000000', '');
INSERT INTO account (id, name) VALUES ('00000000-0000-0000-0000-000000000000', NULL);
INSERT INTO account (id, name) VALUES ('7fffffff-ffff-ffff-ffff-ffffffffffff', '');
INSERT INTO account (id, name) VALUES ('12345678-0000-0000-0000-000000000000', ' ');
