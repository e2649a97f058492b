INSERT INTO contact (id, email) VALUES ('00000000-0000-0000-0000-000000000001', 'nul' || char(0) || 'byte@x.example');
INSERT INTO contact (id, email) VALUES ('00000000-0000-0000-0000-000000000002', 'nul' || char(0) || 'byte@x.example.org');
INSERT INTO contact (id, first_name) VALUES ('00000000-0000-0000-0000-000000000003', 'NUL' || char(0) || 'BYTE');
INSERT INTO contact (id, last_name) VALUES ('00000000-0000-0000-0000-000000000004', char(0) || 'x');
INSERT INTO contact (id, last_name) VALUES ('00000000-0000-0000-0000-000000000005', 'x' || char(0));
INSERT INTO contact (id, job_title) VALUES ('00000000-0000-0000-0000-000000000006', 'a' || char(0));
INSERT INTO contact (id, job_title) VALUES ('00000000-0000-0000-0000-000000000007', 'a');
INSERT INTO contact (id, job_title) VALUES ('00000000-0000-0000-0000-000000000008', 'a' || char(0) || char(0));
INSERT INTO contact (id, first_name) VALUES ('00000000-0000-0000-0000-000000000009', 'nul');
