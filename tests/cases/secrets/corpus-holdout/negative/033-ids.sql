INSERT INTO api_keys (id, user_id, created_at) VALUES ('c0ce4a65-0393-45b3-af62-bd9f1b54a766', 42, now());
