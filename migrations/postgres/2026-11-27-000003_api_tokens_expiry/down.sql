DROP INDEX api_tokens_kind_expiry;
