CREATE INDEX api_tokens_kind_expiry ON api_tokens (kind, expires_at);
