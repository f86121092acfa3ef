CREATE TABLE users (id uuid, password_hash text NOT NULL, api_token_id uuid);
