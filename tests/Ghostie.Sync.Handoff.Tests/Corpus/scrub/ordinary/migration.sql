-- 0042_token_families.sql: every refresh token belongs to a family (reuse detection).
BEGIN;

ALTER TABLE refresh_tokens ADD COLUMN family_id uuid;
UPDATE refresh_tokens SET family_id = gen_random_uuid() WHERE family_id IS NULL;
ALTER TABLE refresh_tokens ALTER COLUMN family_id SET NOT NULL;
CREATE INDEX refresh_tokens_family_id ON refresh_tokens (family_id);

-- The password column keeps PBKDF2 hashes; the old bcrypt ones are rehashed on next sign-in.
ALTER TABLE users ADD COLUMN password_algorithm text NOT NULL DEFAULT 'pbkdf2-sha256';
UPDATE users SET password_algorithm = 'bcrypt' WHERE password_hash LIKE '$2b$%';

-- API keys: only the SHA-256 of the key is stored, with its first 8 characters for display.
CREATE TABLE api_keys (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    partner_id  uuid NOT NULL REFERENCES partners (id),
    key_prefix  text NOT NULL,
    key_sha256  bytea NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz
);

INSERT INTO schema_migrations (version, checksum) VALUES ('0042', 'd4735e3a265e16eee03f59718b9b5d03019c07d8b6c51f90da3a666eec13ab35');
COMMIT;
